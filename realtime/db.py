"""SQL for the historian tables, and fast reads through binary COPY.

Rows travel as numpy arrays: ``t`` is int64 microseconds since the Unix epoch
(UTC) and ``v`` float64 with NaN standing for a NULL value. Bulk reads use
``COPY ... TO STDOUT (FORMAT binary)`` and are decoded with one numpy view, so
millions of rows never become Python objects.

Table names only ever come from configuration, and are quoted here; request
input reaches SQL only as bind parameters.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, TypeAlias

import asyncpg
import numpy as np
import numpy.typing as npt
from asyncpg.pool import PoolConnectionProxy

from realtime.config import PgSettings, SeriesSpec

__all__ = [
    "CONNECTION_ERRORS",
    "Conn",
    "Rows",
    "SeriesSql",
    "TableMissing",
    "TableUnusable",
    "create_pool",
    "dt_from_us",
    "empty_rows",
    "probe_table",
    "quote_ident",
    "quote_literal",
    "read_rows",
    "us_from_dt",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Rows = tuple[I64, F64]
Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

# PostgreSQL's binary timestamps count microseconds from 2000-01-01.
_PG_EPOCH_US = 946_684_800_000_000
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("t", ">i8"), ("l2", ">i4"), ("v", ">f8")])

# Errors that mean "the database is unreachable", as opposed to a bad query.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.OperatorInterventionError,
    # Raised when a connection breaks mid-protocol (e.g. the server stops).
    asyncpg.InternalClientError,
    asyncio.TimeoutError,  # not yet the builtin TimeoutError on 3.10
)


class TableMissing(Exception):
    """The configured table does not exist (or is not visible to our role)."""


class TableUnusable(Exception):
    """The table exists but its columns are not (timestamp, number)."""


_TIME_TYPES = ("timestamp without time zone", "timestamp with time zone")
_VALUE_TYPES = ("double precision", "real", "numeric", "integer", "bigint", "smallint")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def dt_from_us(us: int) -> datetime:
    return _UNIX_EPOCH + timedelta(microseconds=int(us))


def us_from_dt(value: datetime) -> int:
    """Epoch µs of a datetime from a query; naive ones are UTC (see SeriesSql)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - _UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def empty_rows() -> Rows:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)


async def create_pool(pg: PgSettings, *, max_size: int = 8) -> asyncpg.Pool:
    # min_size=0: the app starts (and serves) even while the database is down.
    pool = await asyncpg.create_pool(
        host=pg.host,
        port=pg.port,
        user=pg.user,
        password=pg.password or None,
        database=pg.database,
        min_size=0,
        max_size=max_size,
        command_timeout=60,
        timeout=5,
        # JIT compilation costs more than it saves on these simple scans.
        server_settings={"application_name": "bioreactor-realtime", "jit": "off"},
    )
    assert pool is not None
    return pool


@dataclass(frozen=True)
class TableInfo:
    time_type: str
    value_type: str


async def probe_table(conn: Conn, spec: SeriesSpec) -> TableInfo:
    """Check the table exists with usable columns; raise TableMissing if not."""
    name = SeriesSql.qualified_name(spec)
    rows = await conn.fetch(
        "SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute "
        "WHERE attrelid = to_regclass($1) AND attname IN ('time', 'value') AND NOT attisdropped",
        name,
    )
    types = {r["attname"]: r["type"] for r in rows}
    if not rows:
        raise TableMissing(f"table {name} does not exist")
    if "time" not in types or "value" not in types:
        raise TableUnusable(f"table {name} lacks a 'time' or 'value' column")
    if not types["time"].startswith(_TIME_TYPES):
        raise TableUnusable(f"table {name}: column 'time' is {types['time']}, expected a timestamp")
    if not types["value"].startswith(_VALUE_TYPES):
        raise TableUnusable(f"table {name}: column 'value' is {types['value']}, expected a number")
    return TableInfo(time_type=types["time"], value_type=types["value"])


class SeriesSql:
    """The SQL text for one table, built once from trusted configuration."""

    def __init__(self, spec: SeriesSpec, data_timezone: str, info: TableInfo | None = None) -> None:
        self.spec = spec
        self.table = self.qualified_name(spec)
        tz = quote_literal(data_timezone)
        aware = info is not None and info.time_type.startswith("timestamp with time zone")
        # Naive timestamps are wall-clock times in data_timezone: convert at the
        # edges so comparisons stay on the bare column and use its index. In
        # UTC a naive timestamp's binary form already is the UTC instant, so
        # the per-row conversion (a third of a bulk load's cost) is skipped.
        utc = data_timezone in ("UTC", "Etc/UTC")
        self._ts = '"time"' if aware or utc else f'("time" AT TIME ZONE {tz})'
        self._aware = aware
        self._tz = tz
        self._select = (
            f'SELECT {self._ts}, coalesce("value"::float8, \'NaN\'::float8) FROM {self.table} WHERE "time" IS NOT NULL'
        )

    def _p(self, n: int) -> str:
        """Bind parameter n (an aware datetime) as a value comparable with the column."""
        return f"${n}::timestamptz" if self._aware else f"(${n}::timestamptz AT TIME ZONE {self._tz})"

    @staticmethod
    def qualified_name(spec: SeriesSpec) -> str:
        table = quote_ident(spec.table)
        return f"{quote_ident(spec.schema)}.{table}" if spec.schema else table

    def all_rows(self) -> str:
        return f'{self._select} ORDER BY "time"'

    def all_rows_unordered(self) -> str:
        """Every row in heap order: a sequential scan, twice as fast as the index."""
        return self._select

    def rows_from_unordered(self) -> str:
        return f'{self._select} AND "time" >= {self._p(1)}'

    def rows_from(self) -> str:
        """Rows at or after $1 (inclusive, so equal timestamps are seen again)."""
        return f'{self._select} AND "time" >= {self._p(1)} ORDER BY "time"'

    def rows_between(self, *, end_inclusive: bool) -> str:
        op = "<=" if end_inclusive else "<"
        return f'{self._select} AND "time" >= {self._p(1)} AND "time" {op} {self._p(2)} ORDER BY "time"'

    def cutoff_for_newest(self) -> str:
        """The time of the $1-th newest row: where a bounded load starts."""
        return f'SELECT {self._ts} FROM {self.table} WHERE "time" IS NOT NULL ORDER BY "time" DESC OFFSET $1 LIMIT 1'

    def first_time(self) -> str:
        return f'SELECT {self._ts} FROM {self.table} WHERE "time" IS NOT NULL ORDER BY "time" LIMIT 1'

    def count_before(self) -> str:
        return f'SELECT count(*) FROM {self.table} WHERE "time" < {self._p(1)}'

    def estimated_rows(self) -> str:
        return "SELECT reltuples::float8 FROM pg_class WHERE oid = to_regclass($1)"

    def minute_counts(self) -> str:
        """Row counts per UTC minute in [$1, $2), for reconciliation."""
        return (
            f"SELECT floor(extract(epoch FROM {self._ts}) / 60)::int8 AS minute, count(*)::int8 AS n "
            f'FROM {self.table} WHERE "time" >= {self._p(1)} AND "time" < {self._p(2)} GROUP BY 1'
        )

    def stats_between(self) -> str:
        return (
            'SELECT count("value"), min("value"), max("value"), avg("value") '
            f'FROM {self.table} WHERE "time" >= {self._p(1)} AND "time" <= {self._p(2)}'
        )

    def last_between(self) -> str:
        return (
            f'SELECT {self._ts} AS t, "value" FROM {self.table} WHERE "time" >= {self._p(1)} '
            f'AND "time" <= {self._p(2)} AND "value" IS NOT NULL ORDER BY "time" DESC LIMIT 1'
        )


class CopyDecoder:
    """Decode a binary COPY stream of (timestamptz, float8) rows as it arrives.

    Chunks are decoded into preallocated columns as they come, so a bulk read
    never holds the raw stream (26 bytes a row) beside the result.
    """

    def __init__(self, capacity: int = 0) -> None:
        # Room for 1/8 more rows, so the store can adopt these columns as is.
        capacity = max(capacity + capacity // 8, 1024)
        self._t: I64 = np.empty(capacity, dtype=np.int64)
        self._v: F64 = np.empty(capacity, dtype=np.float64)
        self.n = 0
        self._buf = bytearray()
        self._header = False

    def feed(self, chunk: bytes) -> None:
        self._buf += chunk
        if not self._header:
            if len(self._buf) < 19:
                return
            if bytes(self._buf[:11]) != _COPY_SIGNATURE:
                raise ValueError("not a binary COPY stream")
            ext = int.from_bytes(self._buf[15:19], "big")
            if len(self._buf) < 19 + ext:
                return
            del self._buf[: 19 + ext]
            self._header = True
        if len(self._buf) >= 1 << 20:
            self._drain()

    def _drain(self) -> None:
        k = len(self._buf) // _ROW.itemsize
        if k == 0:
            return
        rec = np.frombuffer(self._buf, dtype=_ROW, count=k)
        if not (np.all(rec["n"] == 2) and np.all(rec["l1"] == 8) and np.all(rec["l2"] == 8)):
            raise ValueError("unexpected row layout in binary COPY stream")
        if self.n + k > self._t.size:
            cap = max(self.n + k, int(self._t.size * 1.25))
            self._t = np.resize(self._t, cap)
            self._v = np.resize(self._v, cap)
        self._t[self.n : self.n + k] = rec["t"]
        self._v[self.n : self.n + k] = rec["v"]
        self.n += k
        del rec
        del self._buf[: k * _ROW.itemsize]

    def finish(self) -> Rows:
        if self._header:
            self._drain()
        # What is left is the 2-byte trailer (-1).
        if self._header and bytes(self._buf) not in (b"", b"\xff\xff"):
            raise ValueError("truncated binary COPY stream")
        t = self._t[: self.n]
        t += _PG_EPOCH_US
        return t, self._v[: self.n]


def decode_copy(data: bytes | bytearray | memoryview) -> Rows:
    """Decode a whole binary COPY stream (see CopyDecoder)."""
    decoder = CopyDecoder()
    decoder.feed(bytes(data))
    return decoder.finish()


async def read_rows(conn: Conn, sql: str, *args: object, capacity: int = 0) -> Rows:
    """Run a query that selects (timestamptz, float8) and return its rows as arrays.

    ``capacity`` is the expected row count, to allocate the columns once.
    """
    decoder = CopyDecoder(capacity)

    async def sink(chunk: bytes) -> None:
        decoder.feed(chunk)

    await conn.copy_from_query(sql, *args, output=sink, format="binary")
    return decoder.finish()
