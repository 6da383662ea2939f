"""Fan-out at scale (#8): many viewers, one server process, measured side by side.

Runs `run-app` as a separate process (so its CPU and memory are its own),
connects N WebSocket viewers from this process, and writes 4 tables x 2 rows/s.
For each N it prints commit -> receive latency (p50/p99, and p99 minus the
one-viewer p99), rows lost or duplicated, server CPU per viewer-frame and per
viewer-row, and server memory per viewer. Then a reconnect storm: N viewers
reconnect at once and ask to replay the last hour (see :mod:`bench.storm`).

    python -m bench.fanout                          # embedded PostgreSQL
    POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 POSTGRES_USER=postgres \\
    POSTGRES_DB=postgres python -m bench.fanout --viewers 1,1000,5000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import httpx2 as httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.common import TABLES, pct, proc_cpu, proc_rss, write_rows
from bench.storm import report, storm
from tests.support.pg import TestDb, create_database, create_schema, drop_database, server_from_env
from tests.support.server import free_port

EPOCH = datetime(1970, 1, 1)
_server = contextmanager(partial(server_from_env, prefix="rt-fanout-"))


@dataclass
class Crowd:
    """N viewers and what they received: row id -> arrival times, and per-viewer counts."""

    conns: list[ClientConnection] = field(default_factory=list)
    arrivals: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    seen: list[Counter[int]] = field(default_factory=list)
    frames: int = 0
    rows: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def until(self, done: Any, timeout: float) -> None:
        """Wait until ``done()`` holds (checked on every frame received), at most ``timeout`` seconds."""
        deadline = time.perf_counter() + timeout
        while not done() and (left := deadline - time.perf_counter()) > 0:
            self.changed.clear()
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    async def join(self, url: str, n: int) -> None:
        for start in range(0, n, 100):
            # No client keepalive: thousands of pings would only add noise to what is measured.
            batch = [
                connect(url, compression=None, max_size=None, open_timeout=60, ping_interval=None)
                for _ in range(min(100, n - start))
            ]
            for conn in await asyncio.gather(*batch):
                i = len(self.conns)
                self.conns.append(conn)
                self.seen.append(Counter())
                self.tasks.append(asyncio.create_task(self._read(conn, i)))

    async def _read(self, conn: ClientConnection, i: int) -> None:
        seen = self.seen[i]
        while True:
            try:
                raw = await conn.recv()
            except ConnectionClosed:
                return
            now = time.perf_counter()
            self.frames += 1
            self.changed.set()
            data = json.loads(raw)
            for msg in data if isinstance(data, list) else [data]:
                if msg["type"] != "append":
                    continue
                if msg["replay"]:
                    continue
                for v in msg["v"]:
                    row = int(v)
                    seen[row] += 1
                    self.arrivals[row].append(now)
                    self.rows += 1

    async def leave(self) -> None:
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*(c.close() for c in self.conns), return_exceptions=True)
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def _round(db: TestDb, url: str, pid: int, n: int, seconds: float, first_id: int) -> dict[str, Any]:
    crowd = Crowd()
    rss0 = proc_rss(pid)
    await crowd.join(url, n)
    await asyncio.sleep(2)  # let the handshakes settle before measuring memory
    rss1 = proc_rss(pid)
    committed: dict[int, float] = {}
    cpu0, frames0 = proc_cpu(pid), crowd.frames
    await write_rows(db, seconds, first_id, committed)
    await crowd.until(lambda: sum(len(crowd.arrivals.get(r, ())) for r in committed) >= n * len(committed), 10)
    cpu1, frames1 = proc_cpu(pid), crowd.frames
    rows = sum(len(crowd.arrivals.get(r, ())) for r in committed)
    lat = [(a - committed[r]) * 1000 for r in committed for a in crowd.arrivals.get(r, ())]
    lost = sum(1 for s in crowd.seen for r in committed if s[r] == 0)
    dup = sum(c - 1 for s in crowd.seen for c in s.values() if c > 1)
    await crowd.leave()
    return {
        "n": n,
        "p50": pct(lat, 0.5),
        "p99": pct(lat, 0.99),
        "lost": lost,
        "dup": dup,
        "cpu_s": cpu1 - cpu0,
        "viewer_frames": frames1 - frames0,
        "viewer_rows": rows,
        "rss_kb": (rss1 - rss0) / max(n, 1) / 1024,
    }


async def _history(db: TestDb, hours: float) -> int:
    """hours of rows at 2 rows/s per table ending now; returns the window start (ms) to replay from."""
    conn = await db.connect()
    end = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        for i, key in enumerate(TABLES):
            await conn.execute(
                f"INSERT INTO {db.qualified(key)} SELECT $1::timestamp - i * interval '500 milliseconds', "
                "-1 FROM generate_series(1, $2) i",
                end - timedelta(milliseconds=i),
                int(hours * 7200),
            )
    finally:
        await conn.close()
    return (end - timedelta(hours=hours) - EPOCH) // timedelta(milliseconds=1)


@contextmanager
def running_app(db: TestDb, tmp: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``run-app`` in a process of its own on ``db``'s tables, once ready: the process and its WebSocket URL."""
    series_file = Path(tmp) / "series.json"
    series_file.write_text(
        json.dumps([{"key": s.key, "table": s.table, "name": s.name, "schema": db.schema} for s in db.series])
    )
    pg = db.reader
    env = {
        **os.environ,
        "POSTGRES_HOST": pg.host,
        "POSTGRES_PORT": str(pg.port),
        "POSTGRES_USER": pg.user,
        "POSTGRES_PASSWORD": pg.password,
        "POSTGRES_DB": pg.database,
        "SERIES_FILE": str(series_file),
        "MAX_VIEWERS": "8000",
        "MAX_CONNECTIONS": "9000",
        # Every viewer of the benchmark comes from 127.0.0.1.
        "MAX_VIEWERS_PER_CLIENT": "8000",
    }
    port = free_port()
    cmd = [sys.executable, "-m", "realtime.cli", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    app = subprocess.Popen(cmd, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield app, f"ws://127.0.0.1:{port}/ws"
    finally:
        app.terminate()
        app.wait(30)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.fanout", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--viewers", default="1,1000,5000", help="viewer counts to measure, comma-separated")
    p.add_argument("--seconds", type=float, default=20.0, help="seconds of writing per viewer count")
    p.add_argument("--storm", type=int, default=1000, help="viewers in the reconnect storm (0: skip)")
    p.add_argument("--storms", type=int, default=1, help="reconnect storms, one after the other (RSS after each)")
    args = p.parse_args(argv)
    counts = [int(x) for x in args.viewers.split(",")]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    rounds: list[dict[str, Any]] = []
    storms: list[dict[str, Any]] = []
    with _server() as server, tempfile.TemporaryDirectory() as tmp:
        admin = asyncio.run(create_database(server.admin))
        try:
            db = asyncio.run(create_schema(admin, server))
            since = asyncio.run(_history(db, 1.0))
            with running_app(db, tmp) as (app, url):
                next_id = 1_000_000
                for n in counts:
                    print(f"measuring {n} viewers …", file=sys.stderr, flush=True)
                    rounds.append(asyncio.run(_round(db, url, app.pid, n, args.seconds, next_id)))
                    next_id += 100_000
                for _ in range(args.storms if args.storm else 0):
                    print(f"reconnect storm of {args.storm} viewers …", file=sys.stderr, flush=True)
                    storms.append(asyncio.run(storm(db, url, app.pid, args.storm, since, next_id)))
                    next_id += 100_000
        finally:
            asyncio.run(drop_database(server.admin, admin.database))

    one = next((r for r in rounds if r["n"] == 1), None)
    base = one["p99"] if one else float("nan")
    print("\nviewers  p50 ms  p99 ms  p99-1viewer  lost  dup  CPU/viewer-frame  CPU/viewer-row  RSS/viewer")
    for r in rounds:
        # CPU beyond what the server spends with one viewer (polling, the database): the fan-out's own cost.
        extra = r["cpu_s"] - (one["cpu_s"] if one else 0.0)
        frames = r["viewer_frames"] - (one["viewer_frames"] if one else 0)
        rows = r["viewer_rows"] - (one["viewer_rows"] if one else 0)
        per_frame = f"{extra / frames * 1e6:>13.1f} µs" if frames > 0 and r is not one else f"{'-':>16}"
        per_row = f"{extra / rows * 1e6:>11.1f} µs" if rows > 0 and r is not one else f"{'-':>14}"
        print(
            f"{r['n']:>7}  {r['p50']:>6.0f}  {r['p99']:>6.0f}  {r['p99'] - base:>11.0f}  {r['lost']:>4}  {r['dup']:>3}"
            f"  {per_frame}  {per_row}  {r['rss_kb']:>7.1f} KB"
        )
    if storms:
        report(storms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
