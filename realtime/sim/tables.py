"""Laying down history: create the historian tables, backfill hours of data, bulk-fill millions of rows.

Backfill reads the process models of :mod:`.models` through the series'
logging (:mod:`.sampling`: regular, or by exception), as the live writer
does, and can cut outages into it. Bulk fills (for benchmarks) are regular
only: vectorised look-alikes of the models sent by binary COPY
(:mod:`realtime.pgcopy`), so memory stays flat whatever the row count.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import TypeAlias
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np

from realtime import pgcopy
from realtime.db import Conn
from realtime.series import SeriesSpec, quote_ident
from realtime.sim import models
from realtime.sim.sampling import Feed, Outage, Sampling, bulk_intervals, check_sampling

__all__ = ["Database", "Outage", "backfill", "backfill_empty", "create_tables", "fill_rows"]

# What the bulk functions accept: a connection (pooled or not) or a pool.
Database: TypeAlias = "Conn | asyncpg.Pool[asyncpg.Record]"


@contextlib.asynccontextmanager
async def _connection(db: Database) -> AsyncIterator[Conn]:
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
                    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(spec.schema)}")
            table = spec.qualified_name
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
    sampling: Mapping[str, Sampling] | None = None,
    gaps: bool = True,
    outages: Sequence[Outage] = (),
) -> dict[str, int]:
    """Write ``hours`` of realistic history ending at ``end`` (default now) through COPY.

    A naive ``end`` is wall time in ``timezone``, the zone the naive timestamps are written in.
    ``sampling`` overrides a series' logging by key (default: temperature by
    exception, the others regular); ``gaps`` adds the regular clock's
    occasional gaps; each of ``outages`` cuts a hole of its length.
    Returns the rows written per series key.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    modes = check_sampling(sampling or {})
    unknown = {o.key for o in outages} - {s.key for s in series}
    if unknown:
        raise ValueError(f"outages of unknown series: {', '.join(sorted(unknown))}")
    if any(not o.seconds > 0 for o in outages):
        raise ValueError("an outage must last a positive number of seconds")
    zone = models.zone(timezone)
    end_ms = models.end_ms(end, zone)
    start_ms = end_ms - round(hours * 3_600_000)
    written: dict[str, int] = {}
    async with _connection(db) as conn:
        for spec in series:
            feed = Feed(spec, models.Random(seed, spec.key), gaps=gaps, sampling=modes.get(spec.key))
            holes = [_hole(o, zone) for o in outages if o.key == spec.key]
            # About a second of CPU for a day of history: keep the event loop responsive meanwhile.
            rows = await asyncio.to_thread(feed.history, start_ms, end_ms, zone, holes)
            if rows:
                await conn.copy_records_to_table(
                    spec.table, schema_name=spec.schema, columns=("time", "value"), records=rows
                )
            written[spec.key] = len(rows)
    return written


def _hole(outage: Outage, zone: ZoneInfo) -> tuple[int, int]:
    start = models.end_ms(outage.start, zone)
    return start, start + round(outage.seconds * 1000)


async def backfill_empty(
    db: Database,
    series: Sequence[SeriesSpec],
    *,
    hours: float = 24.0,
    seed: int | None = None,
    timezone: str = "UTC",
    sampling: Mapping[str, Sampling] | None = None,
) -> dict[str, int]:
    """Backfill ``hours`` ending now into those tables that hold no rows; others are left alone."""
    async with _connection(db) as conn:
        empty = [s for s in series if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {s.qualified_name})")]
        if not empty:
            return {}
        return await backfill(conn, empty, hours=hours, seed=seed, timezone=timezone, sampling=sampling)


# -- bulk fill for benchmarks ------------------------------------------------------

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
    zone = models.zone(timezone)
    end_ms = models.end_ms(end, zone)
    seed = secrets.randbits(32) if seed is None else seed
    chunks = [min(_CHUNK_ROWS, rows - i) for i in range(0, rows, _CHUNK_ROWS)]
    # Two passes over seeded chunks: the first only sums the span, so the last row lands on `end`.
    span = sum(int(bulk_intervals(seed, k, n, interval_s).sum()) for k, n in enumerate(chunks))

    async def source() -> AsyncIterator[bytes]:
        yield pgcopy.HEADER
        base = end_ms - span
        for k, n in enumerate(chunks):
            utc_ms = base + np.cumsum(bulk_intervals(seed, k, n, interval_s))
            base = int(utc_ms[-1])
            values = models.bulk_values(spec.key, utc_ms / 1000.0, np.random.default_rng([seed, k, 1]))
            # Naive timestamps are wall time in the data zone, written as if UTC.
            yield pgcopy.encode_rows(models.local_ms(utc_ms, zone) * 1000, values)
            await asyncio.sleep(0)  # let other tasks run between chunks
        yield pgcopy.TRAILER

    async with _connection(db) as conn:
        await conn.copy_to_table(
            spec.table, schema_name=spec.schema, columns=("time", "value"), source=source(), format="binary"
        )
        await conn.execute(f"ANALYZE {spec.qualified_name}")
    return rows
