"""Commit → arrival latency of live rows at a real WebSocket viewer, while something else goes on."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from datetime import datetime, timezone

from tests.support.pg import TestDb
from tests.support.wsclient import Viewer

__all__ = ["LiveLatency"]


class LiveLatency:
    """Inserts a row every few hundred ms and times each from its commit to a viewer's receipt.

    Use as a context manager around the load to measure; ``latencies`` (seconds)
    and ``missing`` are final once the block has exited.
    """

    def __init__(self, db: TestDb, ws_url: str, key: str, *, every: tuple[float, float] = (0.1, 0.3)) -> None:
        self.db, self.key, self.every = db, key, every
        self.viewer = Viewer(ws_url, max_queue=256)
        self.viewer.wait_for(lambda v: bool(v.of_type("hello")))
        self.committed: dict[float, float] = {}
        self.arrived: dict[float, float] = {}
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._receive), threading.Thread(target=self._write)]

    def __enter__(self) -> LiveLatency:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._threads[1].join()
        deadline = time.monotonic() + 5  # rows committed last may still be on their way
        while set(self.committed) - set(self.arrived) and time.monotonic() < deadline:
            time.sleep(0.05)
        self._done = True
        self._threads[0].join()
        self.viewer.close()

    @property
    def latencies(self) -> list[float]:
        return sorted(self.arrived[t] - c for t, c in self.committed.items() if t in self.arrived)

    @property
    def missing(self) -> int:
        return len(set(self.committed) - set(self.arrived))

    def _receive(self) -> None:
        while not (self._stop.is_set() and getattr(self, "_done", False)):
            before = len(self.viewer.rows.get(self.key, []))
            self.viewer.pump(0.02)
            now = time.perf_counter()
            for t, _ in self.viewer.rows.get(self.key, [])[before:]:
                self.arrived.setdefault(t, now)

    def _write(self) -> None:
        async def write() -> None:
            conn = await self.db.connect()
            try:
                while not self._stop.is_set():
                    await asyncio.sleep(random.uniform(*self.every))
                    now = datetime.now(timezone.utc).replace(tzinfo=None)
                    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
                    await conn.execute(f"INSERT INTO {self.db.qualified(self.key)} VALUES ($1, 7.0)", now)
                    self.committed[round((now - datetime(1970, 1, 1)).total_seconds() * 1000)] = time.perf_counter()
            finally:
                await conn.close()

        asyncio.run(write())
