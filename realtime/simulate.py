"""A bioreactor simulator that writes the four historian tables like the plant does.

It mimics a measured run: irregular sampling (median 1-4 s per table, with
gaps of up to about four minutes), millisecond timestamps, float32 values
widened to double, pressure in 0.002 psi steps, naive timestamps in a
configurable zone. The signals come from :mod:`realtime.process`; this module
writes them. It serves the demo, the tests and the benchmarks:

- :func:`create_tables` and :func:`backfill` lay down history through COPY;
- :func:`fill_rows` bulk-loads millions of rows for benchmarks;
- :class:`Simulator` keeps writing rows in real time, one commit per row,
  and survives a database outage by buffering and forwarding (store-and-forward);
- :func:`main` is the ``run-simulator`` command (in :mod:`realtime.simulate_cli`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import heapq
import logging
import secrets
import struct
import sys
import time
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

import asyncpg
import numpy as np

from realtime import process
from realtime.config import DEFAULT_SERIES, PgSettings, SeriesSpec
from realtime.db import create_pool

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

__all__ = [
    "Database",
    "Simulator",
    "backfill",
    "backfill_empty",
    "create_tables",
    "fill_rows",
    "main",
]

log = logging.getLogger(__name__)

_Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
# What the bulk functions accept: a connection (pooled or not) or a pool.
Database: TypeAlias = "_Conn | asyncpg.Pool[asyncpg.Record]"

_PG_EPOCH_MS = 946_684_800_000  # 2000-01-01, the origin of PostgreSQL's binary timestamps
# Errors after which the live simulator buffers rows and retries.
_TRANSIENT = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


# -- identifiers -----------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(spec: SeriesSpec) -> str:
    table = _ident(spec.table)
    return f"{_ident(spec.schema)}.{table}" if spec.schema else table


# -- tables and history ----------------------------------------------------------


@contextlib.asynccontextmanager
async def _connection(db: Database) -> AsyncIterator[_Conn]:
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            yield conn
    else:
        yield db


_HAS_TIME_INDEX = """
SELECT EXISTS (
    SELECT 1 FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = to_regclass($1) AND a.attname = 'time'
)
"""


async def create_tables(db: Database, series: Sequence[SeriesSpec], *, index: bool = True) -> None:
    """Create each series' table (and its schema) if missing, with a btree index on ``time``.

    An existing index whose first column is ``time`` counts, whatever its name.
    """
    async with _connection(db) as conn:
        for spec in series:
            if spec.schema is not None:
                # CREATE SCHEMA IF NOT EXISTS needs database CREATE rights even when the schema exists.
                exists = await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", spec.schema
                )
                if not exists:
                    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(spec.schema)}")
            table = _qualified(spec)
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (time timestamp without time zone, value double precision)"
            )
            if index and not await conn.fetchval(_HAS_TIME_INDEX, table):
                await conn.execute(f"CREATE INDEX ON {table} (time)")


async def backfill(
    db: Database,
    series: Sequence[SeriesSpec],
    *,
    hours: float = 24.0,
    end: datetime | None = None,
    seed: int | None = None,
    timezone: str = "UTC",
) -> dict[str, int]:
    """Write ``hours`` of realistic history ending at ``end`` (default now) through COPY.

    A naive ``end`` is wall time in ``timezone``, the zone the naive timestamps are written in.
    Returns the rows written per series key.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    zone = process.zone(timezone)
    end_ms = process.end_ms(end, zone)
    start_ms = end_ms - round(hours * 3_600_000)
    written: dict[str, int] = {}
    async with _connection(db) as conn:
        for spec in series:
            feed = process.Feed(spec, process.Random(seed, spec.key), gaps=True)
            # About a second of CPU for a day of history: keep the event loop responsive meanwhile.
            rows = await asyncio.to_thread(feed.history, start_ms, end_ms, zone)
            if rows:
                await conn.copy_records_to_table(
                    spec.table, schema_name=spec.schema, columns=("time", "value"), records=rows
                )
            written[spec.key] = len(rows)
    return written


async def backfill_empty(
    db: Database,
    series: Sequence[SeriesSpec],
    *,
    hours: float = 24.0,
    seed: int | None = None,
    timezone: str = "UTC",
) -> dict[str, int]:
    """Backfill ``hours`` ending now into those tables that hold no rows; others are left alone."""
    async with _connection(db) as conn:
        empty = [s for s in series if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_qualified(s)})")]
        if not empty:
            return {}
        return await backfill(conn, empty, hours=hours, seed=seed, timezone=timezone)


# -- bulk fill for benchmarks ------------------------------------------------------

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)
_COPY_ROW = np.dtype([("fields", ">i2"), ("tlen", ">i4"), ("time", ">i8"), ("vlen", ">i4"), ("value", ">f8")])
_CHUNK_ROWS = 500_000


async def fill_rows(
    db: Database,
    spec: SeriesSpec,
    *,
    rows: int,
    end: datetime | None = None,
    interval_s: float = 1.0,
    seed: int | None = None,
    timezone: str = "UTC",
) -> int:
    """Append exactly ``rows`` rows ending at ``end`` (default now), fast, for benchmarks.

    Rows are built with numpy and sent by binary COPY in chunks, so memory
    stays flat; sampling is irregular around ``interval_s`` with occasional
    gaps. Existing rows are kept. The table is analysed afterwards.
    """
    if rows < 0:
        raise ValueError("rows must not be negative")
    if not interval_s > 0:
        raise ValueError("interval_s must be positive")
    if rows == 0:
        return 0
    zone = process.zone(timezone)
    end_ms = process.end_ms(end, zone)
    seed = secrets.randbits(32) if seed is None else seed
    chunks = [min(_CHUNK_ROWS, rows - i) for i in range(0, rows, _CHUNK_ROWS)]
    # Two passes over seeded chunks: the first only sums the span, so the last row lands on `end`.
    span = sum(int(process.bulk_intervals(seed, k, n, interval_s).sum()) for k, n in enumerate(chunks))

    async def source() -> AsyncIterator[bytes]:
        yield _COPY_HEADER
        base = end_ms - span
        for k, n in enumerate(chunks):
            utc_ms = base + np.cumsum(process.bulk_intervals(seed, k, n, interval_s))
            base = int(utc_ms[-1])
            records = np.empty(n, dtype=_COPY_ROW)
            records["fields"] = 2
            records["tlen"] = 8
            records["time"] = (process.local_ms(utc_ms, zone) - _PG_EPOCH_MS) * 1000
            records["vlen"] = 8
            records["value"] = process.bulk_values(spec.key, utc_ms / 1000.0, np.random.default_rng([seed, k, 1]))
            yield records.tobytes()
            await asyncio.sleep(0)  # let other tasks run between chunks
        yield _COPY_TRAILER

    async with _connection(db) as conn:
        await conn.copy_to_table(
            spec.table, schema_name=spec.schema, columns=("time", "value"), source=source(), format="binary"
        )
        await conn.execute(f"ANALYZE {_qualified(spec)}")
    return rows


# -- live ------------------------------------------------------------------------


class Simulator:
    """Writes new rows in real time, each series at its own irregular rate, one commit per row.

    ``db`` is a pool (used as is) or connection settings (the simulator opens
    its own pool). Each series continues smoothly from the newest value in
    its table. When the database is unreachable the simulator logs once,
    keeps sampling into a bounded buffer, retries with backoff and forwards
    the buffered rows on recovery, as a historian's store-and-forward does.
    """

    def __init__(
        self,
        db: asyncpg.Pool[asyncpg.Record] | PgSettings,
        series: Sequence[SeriesSpec] = DEFAULT_SERIES,
        *,
        seed: int | None = None,
        timezone: str = "UTC",
        gaps: bool = True,
        buffer_rows: int = 3600,
        max_backoff: float = 10.0,
    ) -> None:
        self._db = db
        self._zone = process.zone(timezone)
        # A different stream from backfill's, so a seeded live run does not replay history.
        self._feeds = [
            process.Feed(spec, process.Random(None if seed is None else seed + 1, spec.key), gaps=gaps)
            for spec in series
        ]
        self._pending: list[collections.deque[tuple[datetime, float]]] = [
            collections.deque(maxlen=buffer_rows) for _ in series
        ]
        self._inserts = [f"INSERT INTO {_qualified(spec)} (time, value) VALUES ($1, $2)" for spec in series]
        self._max_backoff = max_backoff
        self._backoff = 0.5
        self._retry_at = 0.0
        self._down = False
        self.written: dict[str, int] = {spec.key: 0 for spec in series}

    @property
    def database_up(self) -> bool:
        return not self._down

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
            pool: asyncpg.Pool[asyncpg.Record] = await create_pool(self._db, max_size=1)
        else:
            pool = self._db
        try:
            await self._resume(pool)
            now = round(time.time() * 1000)
            queue = [(now + feed.interval_ms(), i) for i, feed in enumerate(self._feeds)]
            heapq.heapify(queue)
            while True:
                due, i = queue[0]
                delay = due / 1000 - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                feed = self._feeds[i]
                # Stamp with the real clock: a late loop gives late but truthful timestamps.
                ms = max(round(time.time() * 1000), (feed.last_ms or 0) + 1)
                (value,) = process.float32([feed.sample(ms)], feed.profile.quantum)
                self._pending[i].append((process.naive(ms, self._zone), value))
                heapq.heapreplace(queue, (ms + feed.interval_ms(), i))
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
                        f"SELECT time, value FROM {_qualified(feed.spec)} WHERE value IS NOT NULL"
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
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2.0, self._max_backoff)
            return
        if self._down:
            log.info("simulator: database reachable again; forwarded %d buffered rows", backlog)
            self._down = False
        self._backoff = 0.5


# -- command line -------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """The ``run-simulator`` command; see :mod:`realtime.simulate_cli`."""
    # Imported here: the command line imports this module.
    from realtime.simulate_cli import main as run_simulator

    return run_simulator(argv)


if __name__ == "__main__":
    sys.exit(main())
