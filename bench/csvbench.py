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
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlencode

import httpx2 as httpx

from realtime.config import PgSettings, Settings
from realtime.sim.tables import fill_rows
from tests.support.latency import LiveLatency
from tests.support.pg import TestDb, create_database, create_schema, drop_database, server_from_env
from tests.support.server import LiveServer, serve, wait_until

LONG_KEY, WIDE_KEYS, LIVE_KEY = "temperature", ("ph", "do", "pressure"), "ph"
END = datetime(2026, 6, 1)
_server = contextmanager(partial(server_from_env, prefix="rt-csvbench-"))


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
    """Lines a command writes (read and counted, not timed)."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env) as proc:
        out = proc.stdout
        assert out is not None
        n = sum(chunk.count(b"\n") for chunk in iter(lambda: out.read(1 << 20), b""))
    if proc.returncode:
        raise RuntimeError(f"{cmd[0]} failed")
    return n


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
            app_s = min(_timed(_curl_cmd(live, params)) for _ in range(2))
            psql_s = min(_timed(*_psql_cmd(admin, sql)) for _ in range(2))
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


def _while_streaming(db: TestDb, settings: Settings, rows: int) -> list[list[str]]:
    """/healthz and live-row latency while curl takes a ``rows``-row export as fast as it can."""
    with serve(settings, loaded_within=900) as live, httpx.Client(base_url=live.url, timeout=10) as client:
        params = {"start": "2000-01-01T00:00:00Z", "end": END.isoformat() + "Z", "layout": "long", "series": LONG_KEY}
        took: list[float] = []
        with LiveLatency(db, live.ws_url, LIVE_KEY) as probe:

            def take() -> None:
                started = time.perf_counter()
                lines.append(_lines(_curl_cmd(live, params)))
                took.append(time.perf_counter() - started)

            lines: list[int] = []
            export = threading.Thread(target=take)
            export.start()
            wait_until(lambda: live.ctx.history.exports.taken == 1)
            samples: list[float] = []
            while export.is_alive():
                started = time.perf_counter()
                client.get("/healthz")
                samples.append(time.perf_counter() - started)
                time.sleep(0.05)
            export.join()
            export_s, export_end = took[0], time.perf_counter()
            if lines != [1 + rows]:
                raise RuntimeError(f"the streamed export has {lines} lines, expected {1 + rows}")
            # The same server with no export, as long: what the rest of the app costs /healthz.
            idle: list[float] = []
            until = time.monotonic() + min(export_s, 20.0)
            while time.monotonic() < until:
                started = time.perf_counter()
                client.get("/healthz")
                idle.append(time.perf_counter() - started)
                time.sleep(0.05)
    during = [(t, c) for t, c in probe.committed.items() if c <= export_end]
    lat = sorted(probe.arrived[t] - c for t, c in during if t in probe.arrived)
    missing = sum(t not in probe.arrived for t, _ in during)
    samples.sort()
    p95 = samples[int(0.95 * (len(samples) - 1))]
    idle.sort()
    return [
        [
            f"export of {rows:,} rows (long, store) while measuring",
            f"{export_s:.1f} s ({rows / export_s / 1e6:.2f} M rows/s)",
            "",
            "",
        ],
        [
            "  /healthz, same server, no export (baseline)",
            f"p50 {statistics.median(idle) * 1000:.0f} ms, p95 {idle[int(0.95 * (len(idle) - 1))] * 1000:.0f}, "
            f"max {idle[-1] * 1000:.0f} ms (n={len(idle)})",
            "",
            "",
        ],
        [
            "  /healthz during it",
            f"p50 {statistics.median(samples) * 1000:.0f} ms, p95 {p95 * 1000:.0f}, max {samples[-1] * 1000:.0f} ms "
            f"(n={len(samples)})",
            "≤ 100 ms",
            "✓" if samples[-1] <= 0.1 else "✗",
        ],
        [
            "  live rows, commit → viewer",
            f"p50 {statistics.median(lat) * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms (n={len(lat)}, "
            f"missing {missing})",
            "≤ 1 s",
            "✓" if lat[-1] <= 1.0 and not missing else "✗",
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

    head = ["measure", "app", "psql \\copy", "psql time / app time"]
    widths = [max(len(r[i]) for r in [head, *table]) for i in range(4)]
    for row in [head, ["-" * w for w in widths], *table]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
