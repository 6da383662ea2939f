"""CSV export speed (issue #8): the app against PostgreSQL's own ``psql \\copy ... with csv``, same rows, same run.

Prints a table: ``--rows`` rows exported long (one series) and wide (three
series merged by time), from the store and from PostgreSQL in keyset pages,
each next to ``psql \\copy`` of the same rows (for wide, the full outer join
on time that makes the same lines). Both write into /dev/null through a
subprocess (curl for the app), so neither pays for a Python reader. Then,
while one export of ``--stream-rows`` rows streams as fast as curl takes it,
``/healthz`` latency and commit → viewer latency of live rows.

    POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 POSTGRES_USER=postgres POSTGRES_PASSWORD= \\
    POSTGRES_DB=postgres .venv/bin/python -m bench.csvbench [--rows 1000000] [--stream-rows 10000000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlencode

from realtime.config import PgSettings, Settings
from realtime.sim.tables import fill_rows
from tests.support.latency import LiveLatency
from tests.support.pg import TestDb, create_database, create_schema, drop_database, server_from_env
from tests.support.server import LiveServer, serve, wait_until

LONG_KEY, WIDE_KEYS, LIVE_KEY = "temperature", ("ph", "do", "pressure"), "ph"
END = datetime(2026, 6, 1)
REPEAT = 5
_server = contextmanager(partial(server_from_env, prefix="rt-csvbench-"))


def _rss() -> int:
    """Resident bytes of this process, which runs the server."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _fill(db: TestDb, key: str, rows: int, end: datetime, interval_s: float) -> None:
    conn = await db.connect()
    try:
        await fill_rows(conn, db.spec(key), rows=rows, end=end, interval_s=interval_s, seed=8)
    finally:
        await conn.close()


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - started


def _lines(cmd: list[str], env: dict[str, str] | None = None) -> int:
    """Lines a command writes, counted by ``wc -l``: this process, the server's, only reads the number."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env) as proc:
        count = subprocess.run(["wc", "-l"], stdin=proc.stdout, capture_output=True, check=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{cmd[0]} failed")
    return int(count.stdout)


def _psql_cmd(admin: PgSettings, query: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PGPASSWORD": admin.password}
    cmd = ["psql", "-X", "-q", "-h", admin.host, "-p", str(admin.port), "-U", admin.user, "-d", admin.database]
    return [*cmd, "-c", f"\\copy ({query}) to stdout with csv"], env


def _curl_cmd(live: LiveServer, params: dict[str, str]) -> list[str]:
    return ["curl", "-sSf", f"{live.url}/api/export.csv?{urlencode(params)}"]


def _queries(db: TestDb, start: str, end: str) -> tuple[str, str]:
    span = f"\"time\" >= '{start}' AND \"time\" <= '{end}'"
    long = f'SELECT \'{LONG_KEY}\', "time", "value" FROM {db.qualified(LONG_KEY)} WHERE {span} ORDER BY "time"'
    a, b, c = (f"(SELECT * FROM {db.qualified(k)} WHERE {span})" for k in WIDE_KEYS)
    wide = (
        f'SELECT "time", a.value, b.value, c.value FROM {a} a FULL JOIN {b} b USING ("time") '
        f'FULL JOIN {c} c USING ("time") ORDER BY "time"'
    )
    return long, wide


def _exports(db: TestDb, admin: PgSettings, settings: Settings, rows: int, where: str) -> list[list[str]]:
    out = []
    start, end = "2000-01-01T00:00:00", END.isoformat()
    long_sql, wide_sql = _queries(db, start, end)
    with serve(settings, loaded_within=600) as live:
        window = {"start": start + "Z", "end": end + "Z"}
        for layout, series, sql in (("long", LONG_KEY, long_sql), ("wide", ",".join(WIDE_KEYS), wide_sql)):
            params = {**window, "layout": layout, "series": series}
            # Warm (page cache, SQL probes), and check both give the same rows: the app adds a header line.
            app_lines, psql_lines = _lines(_curl_cmd(live, params)), _lines(*_psql_cmd(admin, sql))
            if app_lines != psql_lines + 1:
                raise RuntimeError(f"{layout}: the app wrote {app_lines} lines, psql {psql_lines}")
            # Alternated, best of REPEAT each: the machine's other load falls on both alike.
            app_runs, psql_runs = [], []
            for _ in range(REPEAT):
                app_runs.append(_timed(_curl_cmd(live, params)))
                psql_runs.append(_timed(*_psql_cmd(admin, sql)))
            app_s, psql_s = min(app_runs), min(psql_runs)
            out.append(
                [
                    f"{rows:,} rows, {layout}, from {where}",
                    f"{app_s:.2f} s ({rows / app_s / 1e6:.2f} M rows/s)",
                    f"{psql_s:.2f} s ({rows / psql_s / 1e6:.2f} M rows/s)",
                    f"{psql_s / app_s:.2f}",
                ]
            )
            _log(" | ".join(out[-1]))
    return out


# A monitor in a process of its own (the server runs in this one): GET /healthz on a new
# connection every 50 ms, one latency in ms per line, until stdin closes.
_PROBE = """
import http.client, select, sys, time
host, port = sys.argv[1], int(sys.argv[2])
while not select.select([sys.stdin], [], [], 0.05)[0]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/healthz")
    conn.getresponse().read()
    conn.close()
    print(f"{time.perf_counter():.6f} {(time.perf_counter() - started) * 1000:.3f}", flush=True)
"""


@contextmanager
def _healthz_probe(live: LiveServer) -> Iterator[list[tuple[float, float]]]:
    """(when, ms) of each /healthz the monitor made, filled in when the block ends."""
    samples: list[tuple[float, float]] = []
    cmd = [sys.executable, "-c", _PROBE, "127.0.0.1", str(live.port)]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        try:
            yield samples
        finally:
            out, _ = proc.communicate("stop\n")
    samples.extend((float(a), float(b)) for a, b in (line.split() for line in out.splitlines()))


def _spread(values: list[float], unit: str = "ms") -> str:
    v = sorted(values)
    return (
        f"p50 {statistics.median(v):.0f} {unit}, p95 {v[round(0.95 * (len(v) - 1))]:.0f}, max {v[-1]:.0f} (n={len(v)})"
    )


def _while_streaming(db: TestDb, settings: Settings, rows: int) -> list[list[str]]:
    """/healthz, the event loop's lag and live-row latency while curl takes a ``rows``-row export at full speed."""
    lags: list[tuple[float, float]] = []  # (when, how late a 10 ms sleep woke), measured inside the server's loop

    async def lag_probe() -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append((started, (time.perf_counter() - started - 0.01) * 1000))

    def during(samples: list[tuple[float, float]], t0: float, t1: float) -> list[float]:
        return [ms for when, ms in samples if t0 <= when <= t1]

    with serve(settings, loaded_within=900, background=[lag_probe]) as live:
        params = {"start": "2000-01-01T00:00:00Z", "end": END.isoformat() + "Z", "layout": "long", "series": LONG_KEY}
        took: list[float] = []
        lines: list[int] = []

        def take() -> None:
            started = time.perf_counter()
            lines.append(_lines(_curl_cmd(live, params)))
            took.append(time.perf_counter() - started)

        with LiveLatency(db, live.ws_url, LIVE_KEY) as probe, _healthz_probe(live) as health:
            # The same server with no export first: what the rest of the app costs.
            base_start = time.perf_counter()
            time.sleep(15)
            base_end = time.perf_counter()
            export = threading.Thread(target=take)
            export.start()
            wait_until(lambda: live.ctx.history.exports.taken == 1)
            busy_start, rss_before, rss_peak = time.perf_counter(), _rss(), 0
            while export.is_alive():
                rss_peak = max(rss_peak, _rss())
                time.sleep(0.05)
            export.join()
            busy_end = time.perf_counter()
        if lines != [1 + rows]:
            raise RuntimeError(f"the streamed export has {lines} lines, expected {1 + rows}")

    def live_rows(t0: float, t1: float) -> tuple[str, bool]:
        rows_in = [(t, c) for t, c in probe.committed.items() if t0 <= c <= t1]
        lat = [(probe.arrived[t] - c) * 1000 for t, c in rows_in if t in probe.arrived]
        missing = len(rows_in) - len(lat)
        return _spread(lat) + (f", {missing} missing" if missing else ""), max(lat, default=0) <= 1000 and not missing

    busy = during(health, busy_start, busy_end)
    base_rows, _ = live_rows(base_start, base_end)
    busy_rows, rows_ok = live_rows(busy_start, busy_end)
    return [
        [
            f"export of {rows:,} rows (long, store), curl at full speed",
            f"{took[0]:.1f} s ({rows / took[0] / 1e6:.2f} M rows/s)",
            "",
            "",
        ],
        ["  /healthz, no export (baseline)", _spread(during(health, base_start, base_end)), "", ""],
        ["  /healthz during the export", _spread(busy), "≤ 100 ms", "✓" if max(busy) <= 100 else "✗"],
        ["  event-loop lag, no export (baseline)", _spread(during(lags, base_start, base_end)), "", ""],
        ["  event-loop lag during the export", _spread(during(lags, busy_start, busy_end)), "", ""],
        ["  live rows commit → viewer, no export", base_rows, "", ""],
        ["  live rows commit → viewer, during it", busy_rows, "≤ 1 s", "✓" if rows_ok else "✗"],
        [
            "  server's resident memory during it",
            f"+{max(rss_peak - rss_before, 0) / 1e6:.0f} MB at most (for a {rows * 56 / 1e6:,.0f} MB file)",
            "",
            "",
        ],
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="csvbench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=1_000_000, help="rows per export compared with psql")
    p.add_argument("--stream-rows", type=int, default=10_000_000, help="rows of the export streamed while measuring")
    args = p.parse_args(argv)
    table: list[list[str]] = []
    with _server() as server:
        admin = asyncio.run(create_database(server.admin))
        try:
            db = asyncio.run(create_schema(admin, server))
            _log(f"filling {args.rows:,} rows long and {args.rows:,} over three series wide …")
            asyncio.run(_fill(db, LONG_KEY, args.rows, END, 1.0))
            for key in WIDE_KEYS:
                asyncio.run(_fill(db, key, args.rows // len(WIDE_KEYS), END, 3.0))
            base = db.settings(poll_interval=Settings.poll_interval, reconcile_interval=5.0)
            table += _exports(db, admin, base, args.rows, "the store")
            paged = db.settings(poll_interval=Settings.poll_interval, reconcile_interval=5.0, store_max_points=1000)
            table += _exports(db, admin, paged, args.rows, "PostgreSQL pages")
            if args.stream_rows > args.rows:
                _log(f"adding rows for a {args.stream_rows:,}-row export …")
                older = END - timedelta(seconds=args.rows * 3)  # before the first row, gaps included
                asyncio.run(_fill(db, LONG_KEY, args.stream_rows - args.rows, older, 1.0))
            table += _while_streaming(db, base, max(args.stream_rows, args.rows))
        finally:
            asyncio.run(drop_database(server.admin, admin.database))

    head = ["measure", "app", "psql \\copy (or target)", "psql time / app time (or ok)"]
    widths = [max(len(r[i]) for r in [head, *table]) for i in range(4)]
    for row in [head, ["-" * w for w in widths], *table]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
