"""A soak (#9): hours of live rows to 200 viewers, watching the server's memory and descriptors.

The historian writes to all four tables: regular rows, rows that repeat a
timestamp, NULLs, and now and then a batch backfilled minutes late. Every
minute the table prints the server's RSS, open descriptors and viewers; at
the end, every viewer's rows are checked against what was written: none
lost, none twice. Memory and descriptors should stay flat.

    python -m bench.soak --minutes 120
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.common import TABLES, proc_rss
from bench.fanout import Crowd, _server, running_app
from tests.support.pg import TestDb, create_database, create_schema, drop_database


def _fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


async def _historian(db: TestDb, stop: asyncio.Event, written: Counter[tuple[str, float | None]]) -> None:
    """About 8 rows/s over the four tables; ids as values, with duplicates, NULLs and late batches."""
    conn = await db.connect()
    rng = random.Random(7)
    row = 0
    try:
        while not stop.is_set():
            await asyncio.sleep(0.125)
            key = TABLES[row % 4]
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            rows: list[tuple[datetime, float | None]] = [(now, float(row))]
            roll = rng.random()
            if roll < 0.05:
                rows.append((now, float(row) + 0.5))  # a second row at the same instant
            elif roll < 0.08:
                rows.append((now + timedelta(microseconds=1), None))  # a NULL
            elif roll < 0.09:
                # Forwarded late: ten rows a few minutes back (reconciliation finds them).
                back = now - timedelta(minutes=rng.randint(2, 20))
                rows += [(back + timedelta(milliseconds=i), float(row) + 0.25 + i / 1000) for i in range(10)]
            await conn.executemany(f"INSERT INTO {db.qualified(key)} VALUES ($1, $2)", rows)
            written.update((key, v) for _, v in rows)
            row += 1
    finally:
        await conn.close()


async def _soak(db: TestDb, url: str, pid: int, viewers: int, minutes: float) -> int:
    crowd = Crowd()
    await crowd.join(url, viewers)
    # Each viewer counts (series, value) pairs; replays after a reconnect would be kept apart.
    per_viewer: list[Counter[tuple[str, float | None]]] = [Counter() for _ in crowd.conns]

    async def tally(i: int) -> None:
        async for raw in crowd.conns[i]:
            data = json.loads(raw)
            for msg in data if isinstance(data, list) else [data]:
                if msg["type"] == "append" and not msg["replay"]:
                    per_viewer[i].update((msg["series"], v) for v in msg["v"])

    for t in crowd.tasks:
        t.cancel()
    tasks = [asyncio.create_task(tally(i)) for i in range(len(crowd.conns))]
    stop = asyncio.Event()
    written: Counter[tuple[str, float | None]] = Counter()
    writer = asyncio.create_task(_historian(db, stop, written))
    print("minute  RSS MB  fds  viewers  rows written", flush=True)
    started = time.monotonic()
    samples: list[tuple[float, int]] = []
    while time.monotonic() - started < minutes * 60:
        elapsed = (time.monotonic() - started) / 60
        rss, fds = proc_rss(pid), _fds(pid)
        samples.append((rss / 1e6, fds))
        print(f"{elapsed:6.0f}  {rss / 1e6:6.1f}  {fds:3}  {viewers:7}  {sum(written.values()):12}", flush=True)
        await asyncio.sleep(60)
    stop.set()
    await writer
    await asyncio.sleep(15)  # a sweep and a few ticks for the last late rows
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await crowd.leave()
    bad = sum(1 for seen in per_viewer if seen != written)
    first, last = samples[0], samples[-1]
    print(
        f"\n{viewers} viewers, {minutes:.0f} min, {sum(written.values())} rows: "
        f"RSS {first[0]:.1f} -> {last[0]:.1f} MB (max {max(s[0] for s in samples):.1f}), "
        f"descriptors {first[1]} -> {last[1]}; viewers with a lost or repeated row: {bad}"
    )
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.soak", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=120.0)
    p.add_argument("--viewers", type=int, default=200)
    args = p.parse_args(argv)
    with _server() as server, tempfile.TemporaryDirectory() as tmp:
        admin = asyncio.run(create_database(server.admin))
        try:
            db = asyncio.run(create_schema(admin, server))
            with running_app(db, tmp) as (app, url):
                return asyncio.run(_soak(db, url, app.pid, args.viewers, args.minutes))
        finally:
            asyncio.run(drop_database(server.admin, admin.database))


if __name__ == "__main__":
    sys.exit(main())
