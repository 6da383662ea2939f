"""SQL for the historian tables, connecting, and what a connection error means.

Table names only ever come from configuration, and are quoted here; request
input reaches SQL only as bind parameters. Bulk reads go through binary COPY
(:mod:`realtime.pgcopy`), so rows arrive as numpy columns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from realtime.config import PgSettings
from realtime.pgcopy import CopyDecoder
from realtime.rows import Rows
from realtime.series import SeriesSpec

__all__ = [
    "CONNECTION_ERRORS",
    "Conn",
    "OutageKind",
    "SeriesSql",
    "TableInfo",
    "TableMissing",
    "TableUnusable",
    "classify",
    "connect",
    "connect_kwargs",
    "create_pool",
    "probe_table",
    "quiet_lost_connections",
    "quote_literal",
    "read_rows",
]

Conn: TypeAlias = "asyncpg.Connection[Any] | PoolConnectionProxy[Any]"

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


OutageKind = Literal["unreachable", "refused", "too-many-connections", "auth", "no-database"]

# SQLSTATE classes, by what they say about reaching the database.
_KINDS: tuple[tuple[type[BaseException], OutageKind], ...] = (
    (asyncpg.InvalidAuthorizationSpecificationError, "auth"),  # 28000, 28P01 wrong password
    (asyncpg.InvalidCatalogNameError, "no-database"),  # 3D000
    (asyncpg.TooManyConnectionsError, "too-many-connections"),  # 53300
    (asyncpg.ConfigurationLimitExceededError, "too-many-connections"),  # 53400: the role's limit
    (asyncpg.CannotConnectNowError, "refused"),  # 57P03: starting up, shutting down, recovering
    (asyncpg.AdminShutdownError, "refused"),  # 57P01: sessions terminated, e.g. a failover
    (asyncpg.CrashShutdownError, "refused"),  # 57P02
)


log = logging.getLogger(__name__)


@contextmanager
def quiet_lost_connections(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Keep asyncpg's orphaned "connection closed" futures out of the error log, while inside.

    When the server shuts down, it sends an idle pooled connection a FATAL error before
    closing it; an operation started on it in between fails at once (and is reported as
    the outage it is), but asyncpg leaves that operation's waiter to fail again when the
    socket closes, with nobody to retrieve it. asyncio would log that as an ERROR with a
    traceback: a second, misleading report of an outage already logged once.
    """
    previous = loop.get_exception_handler()

    def handler(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if "future" in context and isinstance(exc, asyncpg.ConnectionDoesNotExistError):
            log.debug("a lost connection's pending operation: %s", exc)
        elif previous is not None:
            previous(lp, context)
        else:
            lp.default_exception_handler(context)

    loop.set_exception_handler(handler)
    try:
        yield
    finally:
        loop.set_exception_handler(previous)


def classify(exc: BaseException, *, connecting: bool = False) -> OutageKind | None:
    """What kind of database outage an error means, or None if it is about one query.

    ``connecting``: the error came from opening a connection, where any
    refusal (e.g. "database is not accepting connections") is an outage.
    """
    for cls, kind in _KINDS:
        if isinstance(exc, cls):
            return kind
    if isinstance(exc, CONNECTION_ERRORS) and not isinstance(exc, asyncpg.QueryCanceledError):
        return "unreachable"
    if connecting and isinstance(exc, asyncpg.PostgresError):
        return "refused"
    return None


class TableMissing(Exception):
    """The configured table does not exist (or is not visible to our role)."""


class TableUnusable(Exception):
    """The table exists but its columns are not (timestamp, number)."""


_TIME_TYPES = ("timestamp without time zone", "timestamp with time zone")
_VALUE_TYPES = ("double precision", "real", "numeric", "integer", "bigint", "smallint")


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect_kwargs(pg: PgSettings) -> dict[str, Any]:
    """asyncpg's connection arguments for these settings; the one place they are spelled out."""
    return {
        "host": pg.host,
        "port": pg.port,
        "user": pg.user,
        "password": pg.password or None,
        "database": pg.database,
    }


async def connect(pg: PgSettings, *, database: str | None = None, timeout: float = 10.0) -> asyncpg.Connection[Any]:
    """One connection, for tools and tests (the app uses pools)."""
    kwargs = connect_kwargs(pg)
    if database is not None:
        kwargs["database"] = database
    conn: asyncpg.Connection[Any] = await asyncpg.connect(**kwargs, timeout=timeout)
    return conn


async def create_pool(
    pg: PgSettings, *, max_size: int = 8, application_name: str = "bioreactor-realtime"
) -> asyncpg.Pool:
    # min_size=0: the app starts (and serves) even while the database is down.
    pool = await asyncpg.create_pool(
        **connect_kwargs(pg),
        min_size=0,
        max_size=max_size,
        command_timeout=60,
        timeout=5,
        # JIT compilation costs more than it saves on these simple scans.
        server_settings={"application_name": application_name, "jit": "off"},
    )
    assert pool is not None
    return pool


@dataclass(frozen=True)
class TableInfo:
    time_type: str
    value_type: str


async def probe_table(conn: Conn, spec: SeriesSpec) -> TableInfo:
    """Check the table exists with usable columns; raise TableMissing if not."""
    name = spec.qualified_name
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
        self.table = spec.qualified_name
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

    def last_before(self) -> str:
        """The newest row strictly before $1: the value in force when a window opens."""
        return f'{self._select} AND "time" < {self._p(1)} ORDER BY "time" DESC LIMIT 1'

    def first_time(self) -> str:
        return f'SELECT {self._ts} FROM {self.table} WHERE "time" IS NOT NULL ORDER BY "time" LIMIT 1'

    def count_before(self) -> str:
        return f'SELECT count(*) FROM {self.table} WHERE "time" < {self._p(1)}'

    def estimated_rows(self) -> str:
        return "SELECT reltuples::float8 FROM pg_class WHERE oid = to_regclass($1)"

    def bucket_counts(self, seconds: int, *, whole_table: bool) -> str:
        """Row counts per bucket of ``seconds`` (epoch-aligned) in [$1, $2), or before $1 for ``whole_table``."""
        where = f'"time" < {self._p(1)}' if whole_table else f'"time" >= {self._p(1)} AND "time" < {self._p(2)}'
        return (
            f"SELECT floor(extract(epoch FROM {self._ts}) / {int(seconds)})::int8 AS bucket, count(*)::int8 AS n "
            f"FROM {self.table} WHERE {where} GROUP BY 1"
        )


async def read_rows(conn: Conn, sql: str, *args: object, capacity: int = 0) -> Rows:
    """Run a query that selects (timestamptz, float8) and return its rows as arrays.

    ``capacity`` is the expected row count, to allocate the columns once.
    """
    decoder = CopyDecoder(capacity)

    async def sink(chunk: bytes) -> None:
        decoder.feed(chunk)

    await conn.copy_from_query(sql, *args, output=sink, format="binary")
    return decoder.finish()
