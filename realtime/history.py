"""Reading a window of one or more series: the store first, PostgreSQL for older ranges.

The store holds every row from ``covered_from`` on. Windows that start
before that are read from the table, through SQL objects and a connection
pool of this module's own, so on-demand reads never borrow the pollers'
connections and never depend on a poller's state.

On-demand reads are bounded apart from the pollers: at most ``POOL_SIZE``
connections, a wait of at most ``ACQUIRE_TIMEOUT`` for one (then 503 with
Retry-After), and at most ``MAX_EXPORTS`` CSV exports at once (then 429).
A streamed read takes a connection per page and gives it back before the
page is yielded, so a slow client never holds one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import asyncpg
import numpy as np

from realtime.config import Settings
from realtime.db import (
    CONNECTION_ERRORS,
    Conn,
    SeriesSql,
    TableMissing,
    TableUnusable,
    classify,
    probe_table,
    read_rows,
)
from realtime.errors import ApiError
from realtime.health import DbHealth
from realtime.rows import Rows, empty_rows
from realtime.series import SeriesSpec
from realtime.store import SeriesData, Store
from realtime.times import dt_from_us

__all__ = ["ACQUIRE_TIMEOUT", "CHUNK_ROWS", "POOL_SIZE", "RETRY_AFTER", "History", "Slots"]

# Rows per chunk of a streamed read: big enough for numpy, small enough to stay flat.
CHUNK_ROWS = 50_000
# Connections for on-demand reads, and how long a read waits for one before a 503.
POOL_SIZE = 4
ACQUIRE_TIMEOUT = 5.0
# What a client refused for lack of room is told to wait, in seconds.
RETRY_AFTER = 5

_UNAVAILABLE = "the database is unavailable; this range is not in memory"
_ANY_READ_ERROR: tuple[type[BaseException], ...] = (
    TableMissing,
    TableUnusable,
    asyncpg.PostgresError,
    *CONNECTION_ERRORS,
)


class Slots:
    """A count of places taken without waiting: a request finds one free, or is refused."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.taken = 0

    def take(self) -> bool:
        if self.taken >= self.size:
            return False
        self.taken += 1
        return True

    def give_back(self) -> None:
        self.taken -= 1


class History:
    def __init__(self, settings: Settings, store: Store, health: DbHealth, *, chunk_rows: int = CHUNK_ROWS) -> None:
        self.settings = settings
        self.store = store
        self.health = health
        self.chunk_rows = chunk_rows
        self.pool: asyncpg.Pool | None = None
        self._sql: dict[str, SeriesSql] = {}
        self.acquire_timeout = ACQUIRE_TIMEOUT
        # Made on first use, inside the event loop that serves the app (Python 3.10 binds it there).
        self._connections: asyncio.Semaphore | None = None
        self.exports = Slots(settings.max_exports)
        # Pages read from PostgreSQL by streamed reads: what a test watches to see an export stop.
        self.pages_read = 0

    def in_memory(self, series: SeriesData, start: int) -> bool:
        """Whether [start, ...] is answered from the store (a table not yet loaded has no rows to show)."""
        return series.covers(start) or not series.loaded

    def check_available(self, spec: SeriesSpec, start: int) -> None:
        """Refuse, before any byte is sent, a window that needs the database while it is down.

        That is a window older than the store, or any window of a series not
        loaded yet (the app started during an outage): an empty answer would
        say "no data" where the truth is "cannot tell".
        """
        self.check_loaded(spec)
        if self.health.state == "down" and not self.store[spec.key].covers(start):
            raise ApiError(503, f"the database is unavailable; {spec.key} before the stored range is not in memory")

    def check_loaded(self, spec: SeriesSpec) -> None:
        """Refuse any window of a series not loaded yet while the database is down."""
        if self.health.state == "down" and not self.store[spec.key].loaded:
            raise ApiError(503, f"the database is unavailable and {spec.key} has not been loaded yet")

    async def _sql_for(self, conn: Conn, spec: SeriesSpec) -> SeriesSql:
        sql = self._sql.get(spec.key)
        if sql is None:
            info = await probe_table(conn, spec)
            sql = self._sql[spec.key] = SeriesSql(spec, self.settings.data_timezone, info)
        return sql

    # -- whole windows (history and stats) ----------------------------------------

    async def window(self, spec: SeriesSpec, start: int, end: int) -> Rows:
        """Every row with start <= t <= end (views into the store when it covers them)."""
        series = self.store[spec.key]
        if series.covers(start):
            i0, i1 = series.bounds(start, end)
            return series.t[i0:i1], series.v[i0:i1]
        self.check_available(spec, start)
        if not series.loaded:
            return empty_rows()
        return await self._read(spec, start, end, None)

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        """A connection of the history pool; outages are reported to health and answered with 503."""
        if self.pool is None:
            raise ApiError(503, _UNAVAILABLE)
        if self._connections is None:
            self._connections = asyncio.Semaphore(POOL_SIZE)
        try:
            # Waiting for a busy pool says nothing about the database: not a health failure.
            await asyncio.wait_for(self._connections.acquire(), self.acquire_timeout)
        except asyncio.TimeoutError:
            raise ApiError(503, "too many reads of the database at once; try again", retry_after=RETRY_AFTER) from None
        try:
            async with self._pooled(self.pool) as conn:
                yield conn
        finally:
            self._connections.release()

    @contextlib.asynccontextmanager
    async def _pooled(self, pool: asyncpg.Pool) -> AsyncIterator[Conn]:
        try:
            conn = await pool.acquire()
        except Exception as exc:
            self.health.failed(exc, classify(exc, connecting=True) or "refused")
            raise ApiError(503, _UNAVAILABLE) from None
        try:
            yield conn
        except Exception as exc:
            kind = classify(exc)
            if kind is None:
                raise
            self.health.failed(exc, kind)
            raise ApiError(503, _UNAVAILABLE) from None
        finally:
            # A broken connection fails its reset; the pool closes it.
            with contextlib.suppress(Exception):
                await pool.release(conn)

    async def before(self, spec: SeriesSpec, start: int) -> tuple[int, float] | None:
        """The newest row before ``start``: the value in force as the window opens."""
        series = self.store[spec.key]
        i = int(np.searchsorted(series.t, start, "left"))
        if i > 0:
            return int(series.t[i - 1]), float(series.v[i - 1])
        if series.covered_from is None or not series.loaded or self.health.state == "down":
            return None  # the store holds every row (there is none before), or none can be read
        try:
            async with self._connection() as conn:
                sql = await self._sql_for(conn, spec)
                t, v = await read_rows(conn, sql.last_before(), dt_from_us(start))
        except _ANY_READ_ERROR:
            return None  # a nicety for the left edge; the window itself still loads
        return (int(t[0]), float(v[0])) if t.size else None

    # -- streamed windows (CSV) -------------------------------------------------

    def chunks(self, spec: SeriesSpec, start: int, end: int) -> AsyncIterator[Rows]:
        """The window's rows in sorted chunks, each ending on an instant boundary."""
        series = self.store[spec.key]
        if self.in_memory(series, start):
            return self._store_chunks(series, start, end)
        return self._db_chunks(spec, series, start, end)

    async def _store_chunks(self, series: SeriesData, start: int, end: int) -> AsyncIterator[Rows]:
        # The cursor is a time, not an index: rows merged meanwhile cannot shift it.
        cursor = start
        while cursor <= end:
            i0, i1 = series.bounds(cursor, end)
            if i0 >= i1:
                return
            stop = min(i0 + self.chunk_rows, i1)
            # Extend to include every row sharing the last timestamp.
            stop = int(np.searchsorted(series.t, series.t[stop - 1], "right"))
            t, v = series.t[i0:stop].copy(), series.v[i0:stop].copy()
            yield t, v
            cursor = int(t[-1]) + 1

    async def _db_chunks(self, spec: SeriesSpec, series: SeriesData, start: int, end: int) -> AsyncIterator[Rows]:
        """Keyset pages (``time >= cursor ORDER BY time LIMIT n``), each on a connection given back at once.

        No cursor or transaction outlives a page, so a client reading slowly
        holds nothing in the database. Once the store covers the cursor, the
        rest comes from memory.
        """
        cursor = start
        while cursor <= end:
            if series.covers(cursor):
                async for chunk in self._store_chunks(series, cursor, end):
                    yield chunk
                return
            t, v = await self._page(spec, cursor, end, self.chunk_rows)
            if t.size < self.chunk_rows:
                if t.size:
                    yield t, v
                return
            # The page may have cut the last instant short: keep it for the next page.
            cut = int(np.searchsorted(t, t[-1], "left"))
            if cut == 0:  # a whole page at one instant: read that instant whole
                t, v = await self._page(spec, int(t[-1]), int(t[-1]), None)
                cut = t.size
            yield t[:cut], v[:cut]
            cursor = int(t[cut - 1]) + 1

    async def _page(self, spec: SeriesSpec, start: int, end: int, limit: int | None) -> Rows:
        self.pages_read += 1
        return await self._read(spec, start, end, limit)

    async def _read(self, spec: SeriesSpec, start: int, end: int, limit: int | None) -> Rows:
        """Rows with start <= t <= end, the first ``limit`` of them if given."""
        async with self._connection() as conn:
            try:
                sql = await self._sql_for(conn, spec)
                query = sql.rows_between(end_inclusive=True) + ("" if limit is None else f" LIMIT {int(limit)}")
                return await read_rows(conn, query, dt_from_us(start), dt_from_us(end))
            except (TableMissing, TableUnusable, asyncpg.PostgresError) as exc:
                if classify(exc) is not None:
                    raise
                self._sql.pop(spec.key, None)
                raise ApiError(503, f"{spec.key} cannot be read: {exc}") from None

    async def slabs(self, specs: Sequence[SeriesSpec], start: int, end: int) -> AsyncIterator[list[Rows]]:
        """Slabs of rows, all series cut at the same instant, in time order."""
        sources = [self.chunks(spec, start, end) for spec in specs]
        pending: list[Rows] = [empty_rows()] * len(sources)
        done = [False] * len(sources)
        while True:
            for i, src in enumerate(sources):
                if not done[i] and pending[i][0].size == 0:
                    try:
                        pending[i] = await src.__anext__()
                    except StopAsyncIteration:
                        done[i] = True
            live = [i for i in range(len(sources)) if pending[i][0].size]
            if not live:
                return
            # Chunks end on timestamp boundaries, so cutting at the smallest chunk
            # end never splits an instant between two slabs. Exhausted sources
            # hold their last rows already and do not limit the cut.
            open_ends = [int(pending[i][0][-1]) for i in live if not done[i]]
            cut = min(open_ends) if open_ends else None
            slab: list[Rows] = []
            for i in range(len(sources)):
                t, v = pending[i]
                j = t.size if cut is None else int(np.searchsorted(t, cut, "right"))
                slab.append((t[:j], v[:j]))
                pending[i] = (t[j:], v[j:])
            yield slab
