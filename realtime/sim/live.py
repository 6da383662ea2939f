"""The live simulator: new rows in real time, one commit per row, with store-and-forward.

Each series is read on its own clock and logged as in a backfill (regularly,
or by exception: see :mod:`.sampling`), through the same :meth:`Feed.read`.
When the database is unreachable it keeps sampling into a bounded buffer,
retries with backoff and forwards the buffered rows on recovery, as a
historian does after a network outage. :meth:`Simulator.interrupt` is the
other kind of outage, the instrument's: nothing is written for a while, so
the table gets a real hole.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime

import asyncpg

from realtime.backoff import Backoff
from realtime.config import PgSettings
from realtime.db import create_pool
from realtime.series import DEFAULT_SERIES, SeriesSpec
from realtime.sim import models
from realtime.sim.sampling import Feed, Sampling, check_sampling

__all__ = ["Simulator"]

log = logging.getLogger(__name__)

# Errors after which the live simulator buffers rows and retries.
_TRANSIENT = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Simulator:
    """Writes new rows in real time, each series at its own irregular rate, one commit per row.

    ``db`` is a pool (used as is) or connection settings (the simulator opens
    its own pool). Each series continues smoothly from the newest value in
    its table; ``sampling`` and ``gaps`` are as in a backfill. When the
    database is unreachable the simulator logs once, keeps sampling into a
    bounded buffer, retries with backoff and forwards the buffered rows on
    recovery, as a historian's store-and-forward does.
    """

    def __init__(
        self,
        db: asyncpg.Pool[asyncpg.Record] | PgSettings,
        series: Sequence[SeriesSpec] = DEFAULT_SERIES,
        *,
        seed: int | None = None,
        timezone: str = "UTC",
        gaps: bool = True,
        sampling: Mapping[str, Sampling] | None = None,
        buffer_rows: int = 3600,
        max_backoff: float = 10.0,
    ) -> None:
        self._db = db
        self._zone = models.zone(timezone)
        modes = check_sampling(sampling or {})
        # A different stream from backfill's, so a seeded live run does not replay history.
        self._feeds = [
            Feed(
                spec,
                models.Random(None if seed is None else seed + 1, spec.key),
                gaps=gaps,
                sampling=modes.get(spec.key),
            )
            for spec in series
        ]
        self._offline_until = [0] * len(series)  # epoch ms, per series: see interrupt()
        self._pending: list[collections.deque[tuple[datetime, float]]] = [
            collections.deque(maxlen=buffer_rows) for _ in series
        ]
        self._inserts = [f"INSERT INTO {spec.qualified_name} (time, value) VALUES ($1, $2)" for spec in series]
        self._backoff = Backoff(0.5, max_backoff)
        self._retry_at = 0.0
        self._down = False
        self.written: dict[str, int] = {spec.key: 0 for spec in series}

    @property
    def database_up(self) -> bool:
        return not self._down

    def interrupt(self, key: str, seconds: float) -> tuple[datetime, datetime]:
        """Write nothing for series ``key`` for ``seconds`` from now: a real outage, not a steady value.

        The model runs on; the first reading after the outage is written.
        Returns the hole as naive timestamps in the data zone, ``[start, end)``.
        """
        keys = [feed.spec.key for feed in self._feeds]
        if key not in keys:
            raise KeyError(f"no series {key!r} in this simulator")
        i = keys.index(key)
        start = round(time.time() * 1000)
        self._offline_until[i] = start + round(seconds * 1000)
        return models.naive(start, self._zone), models.naive(self._offline_until[i], self._zone)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; an in-flight insert is abandoned so stopping is prompt."""
        work = asyncio.create_task(self._work())
        halt = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({work, halt}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (work, halt):
                task.cancel()
            await asyncio.gather(work, halt, return_exceptions=True)
        if not work.cancelled() and (error := work.exception()) is not None:
            raise error

    async def _work(self) -> None:
        if isinstance(self._db, PgSettings):
            # The app's pool: it opens nothing up front, so a database that is down is just an outage.
            pool: asyncpg.Pool[asyncpg.Record] = await create_pool(
                self._db, max_size=1, application_name="bioreactor-simulator"
            )
        else:
            pool = self._db
        try:
            await self._resume(pool)
            now = round(time.time() * 1000)
            queue = [(now + feed.interval_ms(), i) for i, feed in enumerate(self._feeds)]
            heapq.heapify(queue)
            while True:
                due, i = queue[0]
                # Sleep even when late, so stopping and other tasks get their turn.
                await asyncio.sleep(max(0.0, due / 1000 - time.time()))
                feed = self._feeds[i]
                # Stamp with the real clock: a late loop gives late but truthful timestamps.
                ms = max(round(time.time() * 1000), (feed.last_ms or 0) + 1)
                value = feed.read(ms, online=ms >= self._offline_until[i])
                if value is not None:
                    (stored,) = models.float32([value], None)
                    self._pending[i].append((models.naive(ms, self._zone), stored))
                heapq.heapreplace(queue, (ms + feed.interval_ms(), i))
                if any(self._pending):
                    await self._flush(pool)
        finally:
            if pool is not self._db:
                try:
                    await asyncio.wait_for(pool.close(), 2.0)
                except asyncio.TimeoutError:
                    pool.terminate()

    async def _resume(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        now = time.time()
        try:
            async with pool.acquire(timeout=5.0) as conn:
                for feed in self._feeds:
                    row = await conn.fetchrow(
                        f"SELECT time, value FROM {feed.spec.qualified_name} WHERE value IS NOT NULL"
                        " ORDER BY time DESC LIMIT 1",
                        timeout=5.0,
                    )
                    if row is None:
                        continue
                    last = row["time"].replace(tzinfo=self._zone).timestamp()
                    if now - 86_400 < last <= now + 1:  # only continue recent history
                        feed.model.resume(now, float(row["value"]))
        except _TRANSIENT as exc:
            log.warning("simulator: cannot read the newest values (%s); starting fresh", exc)

    async def _flush(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        if time.monotonic() < self._retry_at:
            return
        backlog = sum(len(p) for p in self._pending)
        try:
            async with pool.acquire(timeout=5.0) as conn:
                for i, pending in enumerate(self._pending):
                    while pending:
                        await conn.execute(self._inserts[i], *pending[0], timeout=5.0)
                        pending.popleft()
                        self.written[self._feeds[i].spec.key] += 1
        except _TRANSIENT as exc:
            if not self._down:
                log.warning("simulator: database unavailable (%s: %s); buffering rows", type(exc).__name__, exc)
                self._down = True
            self._retry_at = time.monotonic() + self._backoff.next()
            return
        if self._down:
            log.info("simulator: database reachable again; forwarded %d buffered rows", backlog)
            self._down = False
        self._backoff.reset()
