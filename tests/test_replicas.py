"""Two replicas behind a real load balancer (HAProxy): a viewer whose history comes
from one and live feed from another, failing over when its replica dies, loses
and duplicates nothing."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2 as httpx

from realtime.times import us_from_dt, wire_ms1
from tests.support.balancer import balancer
from tests.support.pg import TestDb, run
from tests.support.server import LiveServer, serve, wait_until
from tests.support.wsclient import Viewer

EPOCH = datetime(1970, 1, 1)


def ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


class Browser:
    """What the dashboard does with its data, reduced to the rules that keep rows exactly once."""

    def __init__(self, url: str, key: str, start: int) -> None:
        self.url, self.key, self.start = url, key, start
        self.rows: list[tuple[float, Any]] = []
        self.seq = -1
        self.viewer: Viewer | None = None

    def load(self) -> None:
        body = httpx.get(f"{self.url}/api/series/{self.key}/data", params={"start": self.start, "end": 2**42}).json()
        assert body["downsampled"] is False
        self.rows = list(zip(body["t"], body["v"], strict=True))
        self.seq = body["seq"]

    def connect(self) -> None:
        self.viewer = Viewer(self.url.replace("http", "ws") + "/ws")
        self.viewer.wait_for(lambda v: bool(v.of_type("hello")))
        self.viewer.messages.clear()
        since = self.rows[-1][0] if self.rows else self.start
        self.viewer.subscribe(since={self.key: since}, seq={self.key: self.seq})
        self._since = since

    def pump(self) -> None:
        assert self.viewer is not None
        self.viewer.pump(0.1, closing_ok=True)
        for msg in self.viewer.messages:
            if msg["type"] == "resync" and self.key in msg["series"]:
                self.load()
            elif msg["type"] == "append" and msg["series"] == self.key:
                new = list(zip(msg["t"], msg["v"], strict=True))
                if msg["replay"]:
                    self.rows = [r for r in self.rows if r[0] <= self._since] + new
                elif msg["seq"] > self.seq:
                    self.rows = sorted(self.rows + new, key=lambda r: r[0])
                else:
                    continue
                self.seq = max(self.seq, msg["seq"])
        self.viewer.messages.clear()

    def until(self, done: Any, timeout: float = 15) -> None:
        def check() -> bool:
            self.pump()
            return bool(done())

        wait_until(check, timeout=timeout)


def wire(t: datetime) -> float:
    """A naive-UTC time as the wire (and so the page) holds it."""
    return wire_ms1(us_from_dt(t))


def test_failing_over_between_replicas_loses_and_repeats_nothing(db: TestDb) -> None:
    start = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) - timedelta(minutes=5)
    run(db.insert("do", [(start + timedelta(seconds=i), float(i)) for i in range(300)]))
    settings = db.settings(poll_interval=0.2)
    stop = threading.Event()
    written: list[tuple[datetime, float]] = []

    def historian() -> None:
        async def write() -> None:
            conn = await db.connect()
            try:
                i = 1000
                while not stop.is_set():
                    row = (datetime.now(timezone.utc).replace(tzinfo=None), float(i))
                    await conn.execute(f"INSERT INTO {db.qualified('do')} VALUES ($1, $2)", *row)
                    written.append(row)
                    i += 1
                    await asyncio.sleep(0.05)
            finally:
                await conn.close()

        asyncio.run(write())

    with ExitStack() as stack:
        replicas: list[tuple[ExitStack, LiveServer]] = []
        for _ in range(2):
            own = stack.enter_context(ExitStack())
            replicas.append((own, own.enter_context(serve(settings))))
        url = stack.enter_context(balancer([live.port for _, live in replicas]))
        writer = threading.Thread(target=historian)
        writer.start()
        try:
            browser = Browser(url, "do", ms(start))
            browser.load()
            browser.connect()
            browser.until(lambda: len(browser.rows) > 320)
            # Kill the replica that carries the live feed, mid-stream.
            own, dead = next((own, live) for own, live in replicas if len(live.ctx.hub) == 1)
            own.close()
            assert dead.stopped
            assert browser.viewer is not None
            browser.until(browser.viewer.closed, timeout=10)
            browser.connect()  # through the balancer, to the replica still standing
            browser.until(lambda: len(browser.rows) > len(written) + 300 - 20)
        finally:
            stop.set()
            writer.join()
        survivor = next(live for _, live in replicas if live is not dead)
        wait_until(lambda: survivor.ctx.store["do"].n == 300 + len(written), timeout=15)
        expected = Counter((wire(start + timedelta(seconds=i)), float(i)) for i in range(300))
        expected.update((wire(t), v) for t, v in written)
        browser.until(lambda: Counter(browser.rows) == expected)
        assert len(browser.rows) == 300 + len(written)
