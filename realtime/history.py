"""Reading a window of one or more series: the store first, PostgreSQL for older ranges.

The store holds every row from ``covered_from`` on. Windows that start
before that are read from the table, through SQL objects and a connection
pool of this module's own, so on-demand reads never borrow the pollers'
connections and never depend on a poller's state.
"""

from __future__ import annotations

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
from realtime.times import dt_from_us, us_from_dt

__all__ = ["CHUNK_ROWS", "History"]

# Rows per chunk of a streamed read: big enough for numpy, small enough to stay flat.
CHUNK_ROWS = 50_000

_UNAVAILABLE = "the database is unavailable; this range is not in memory"
_ANY_READ_ERROR: tuple[type[BaseException], ...] = (
    TableMissing,
    TableUnusable,
    asyncpg.PostgresError,
    *CONNECTION_ERRORS,
)


class History:
    def __init__(self, settings: Settings, store: Store, health: DbHealth, *, chunk_rows: int = CHUNK_ROWS) -> None:
        self.settings = settings
        self.store = store
        self.health = health
        self.chunk_rows = chunk_rows
        self.pool: asyncpg.Pool | None = None
        self._sql: dict[str, SeriesSql] = {}

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
        async with self._connection() as conn:
            try:
                sql = await self._sql_for(conn, spec)
                return await read_rows(conn, sql.rows_between(end_inclusive=True), dt_from_us(start), dt_from_us(end))
            except (TableMissing, TableUnusable, asyncpg.PostgresError) as exc:
                if classify(exc) is not None:
                    raise
                self._sql.pop(spec.key, None)
                raise ApiError(503, f"{spec.key} cannot be read: {exc}") from None

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Conn]:
        """A connection of the history pool; outages are reported to health and answered with 503."""
        if self.pool is None:
            raise ApiError(503, _UNAVAILABLE)
        try:
            conn = await self.pool.acquire()
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
                await self.pool.release(conn)

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
        return self._db_chunks(spec, start, end)

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

    async def _db_chunks(self, spec: SeriesSpec, start: int, end: int) -> AsyncIterator[Rows]:
        async with self._connection() as conn, conn.transaction(readonly=True):
            sql = await self._sql_for(conn, spec)
            cur = await conn.cursor(sql.rows_between(end_inclusive=True), dt_from_us(start), dt_from_us(end))
            held = empty_rows()
            while True:
                records = await cur.fetch(self.chunk_rows)
                if not records:
                    if held[0].size:
                        yield held
                    return
                t = np.concatenate((held[0], np.array([us_from_dt(r[0]) for r in records], dtype=np.int64)))
                v = np.concatenate((held[1], np.array([r[1] for r in records], dtype=np.float64)))
                # Hold back the last instant: the next fetch may hold more rows
                # of it, and a chunk must end on a timestamp boundary.
                cut = int(np.searchsorted(t, t[-1], "left"))
                held = (t[cut:], v[cut:])
                if cut:
                    yield t[:cut], v[:cut]

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
