"""Speed floor for issue #2, measured on a 10 M-row series made by the simulator.

Prints a table of: start-up load into the store (time, bytes per point),
history route server time (full range and one day at 1000 points) and
commit → browser latency at the default poll interval.

    python -m bench.bench                  # embedded PostgreSQL
    POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 POSTGRES_USER=postgres \\
    POSTGRES_DB=postgres python -m bench.bench --rows 10000000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

import httpx2 as httpx

from realtime.config import Settings
from realtime.db import create_pool
from realtime.health import DbHealth
from realtime.hub import Hub
from realtime.poller import Poller
from realtime.sim.tables import fill_rows
from realtime.store import Store
from tests.support.pg import TestDb, create_database, create_schema, drop_database, server_from_env
from tests.support.server import serve
from tests.support.wsclient import Viewer

KEY = "temperature"


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# The machine's PostgreSQL when POSTGRES_HOST is set, else an embedded one.
_server = contextmanager(partial(server_from_env, prefix="rt-bench-"))


async def _load(settings: Settings) -> tuple[float, int, float]:
    """Seconds to load the series, rows loaded, resident bytes per point."""
    pool = await create_pool(settings.pg)
    try:
        spec = next(s for s in settings.series if s.key == KEY)
        series = Store([KEY])[KEY]
        poller = Poller(spec, settings, pool, series, Hub(1 << 20, 5.0), DbHealth(lambda _: None))
        before = _rss_bytes()
        started = time.perf_counter()
        async with pool.acquire() as conn:
            await poller.load(conn)
        elapsed = time.perf_counter() - started
        resident = (_rss_bytes() - before) / max(series.n, 1)
        return elapsed, series.n, resident
    finally:
        await pool.close()


def _server_ms(client: httpx.Client, url: str, params: dict[str, Any], repeat: int) -> tuple[float, float]:
    """Median and max of the server's own timing of a history request."""
    times = []
    for _ in range(repeat):
        r = client.get(url, params=params)
        r.raise_for_status()
        times.append(float(r.headers["server-timing"].split("dur=")[1]))
    return statistics.median(times), max(times)


def _latency(db: TestDb, settings: Settings, samples: int) -> list[float]:
    """Commit → WebSocket receipt, in ms, for rows inserted at random moments."""
    with serve(settings, loaded_within=300) as live:
        viewer = Viewer(live.ws_url)
        viewer.subscribe()
        arrivals: dict[float, float] = {}
        stop = threading.Event()

        def receive() -> None:
            while not stop.is_set():
                before = len(viewer.rows.get(KEY, []))
                viewer.pump(0.05)
                now = time.perf_counter()
                for t, _ in viewer.rows.get(KEY, [])[before:]:
                    arrivals.setdefault(t, now)

        thread = threading.Thread(target=receive, daemon=True)
        thread.start()
        committed: dict[int, float] = {}

        async def write() -> None:
            conn = await db.connect()
            try:
                for _ in range(samples):
                    await asyncio.sleep(random.uniform(0.2, 0.9))
                    now = datetime.now(timezone.utc).replace(tzinfo=None)
                    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
                    await conn.execute(f"INSERT INTO {db.qualified(KEY)} VALUES ($1, 37.0)", now)
                    ms = round((now - datetime(1970, 1, 1)).total_seconds() * 1000)
                    committed[ms] = time.perf_counter()
            finally:
                await conn.close()

        asyncio.run(write())
        deadline = time.monotonic() + 5
        while len(arrivals) < len(committed) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join()
        viewer.close()
    return [(arrivals[t] - c) * 1000 for t, c in committed.items() if t in arrivals]


async def _fill(db: TestDb, rows: int, end: datetime) -> None:
    conn = await db.connect()
    try:
        await fill_rows(conn, db.spec(KEY), rows=rows, end=end, interval_s=1.0, seed=7)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000_000, help="rows in the benchmark series")
    p.add_argument("--samples", type=int, default=40, help="rows timed for commit → browser latency")
    args = p.parse_args(argv)

    results: list[tuple[str, str, str, bool]] = []
    with _server() as server:
        admin = asyncio.run(create_database(server.admin))
        try:
            db = asyncio.run(create_schema(admin, server))
            print(f"filling {args.rows:,} rows with the simulator …", file=sys.stderr, flush=True)
            started = time.perf_counter()
            end = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=5)
            asyncio.run(_fill(db, args.rows, end))
            print(f"filled in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            settings = db.settings(poll_interval=Settings.poll_interval, reconcile_interval=5.0)

            load_s, n, per_point = asyncio.run(_load(settings))
            results.append(("start-up load into the store", f"{load_s:.2f} s ({n:,} rows)", "≤ 5 s", load_s <= 5))
            results.append(("resident memory per point", f"{per_point:.1f} B", "≤ 24 B", per_point <= 24))

            with serve(settings, loaded_within=300) as live, httpx.Client(base_url=live.url, timeout=30) as client:
                series = live.ctx.store[KEY]
                first, last = series.oldest, series.newest
                assert first is not None
                assert last is not None
                url = f"/api/series/{KEY}/data"
                full = {"start": first // 1000, "end": last // 1000, "points": 1000}
                med, worst = _server_ms(client, url, full, 30)
                results.append(
                    ("history, full range, 1000 points", f"{med:.1f} ms (max {worst:.1f})", "≤ 15 ms", med <= 15)
                )
                day = {"start": (last - 86_400_000_000) // 1000, "end": last // 1000, "points": 1000}
                med, worst = _server_ms(client, url, day, 30)
                results.append(
                    ("history, one day, 1000 points", f"{med:.1f} ms (max {worst:.1f})", "≤ 10 ms", med <= 10)
                )

            lat = sorted(_latency(db, settings, args.samples))
            p50 = statistics.median(lat)
            p95 = lat[int(0.95 * (len(lat) - 1))]
            results.append(
                (
                    f"commit → browser, poll {settings.poll_interval:g} s",
                    f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (n={len(lat)})",
                    "p50 ≤ 500 ms",
                    p50 <= 500,
                )
            )
        finally:
            asyncio.run(drop_database(server.admin, admin.database))

    width = max(len(r[0]) for r in results)
    vwidth = max(len(r[1]) for r in results)
    print(f"\n{'measure'.ljust(width)}  {'result'.ljust(vwidth)}  target        ok")
    print(f"{'-' * width}  {'-' * vwidth}  ------------  --")
    for name, value, target, ok in results:
        print(f"{name.ljust(width)}  {value.ljust(vwidth)}  {target.ljust(12)}  {'✓' if ok else '✗'}")
    return 0 if all(r[3] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
