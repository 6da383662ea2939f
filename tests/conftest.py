from __future__ import annotations

from collections.abc import Iterator

import pytest

from realtime.config import PgSettings
from tests.support.pg import (
    PgServer,
    TestDb,
    create_database,
    create_schema,
    drop_database,
    run,
    server_from_env,
    start_embedded,
)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The machine's PostgreSQL when POSTGRES_HOST is set, otherwise an embedded one."""
    yield from server_from_env()


@pytest.fixture(scope="session")
def pg_admin(pg_server: PgServer) -> Iterator[PgSettings]:
    """A fresh database for this test session, dropped at the end."""
    settings = run(create_database(pg_server.admin))
    yield settings
    run(drop_database(pg_server.admin, settings.database))


@pytest.fixture
def db(pg_admin: PgSettings, pg_server: PgServer) -> TestDb:
    """A fresh schema with the four historian tables, empty."""
    result: TestDb = run(create_schema(pg_admin, pg_server))
    return result


@pytest.fixture
def bare_db(pg_admin: PgSettings, pg_server: PgServer) -> TestDb:
    """A fresh schema with no tables at all."""
    result: TestDb = run(create_schema(pg_admin, pg_server, tables=False))
    return result


@pytest.fixture(scope="session")
def restartable_server() -> Iterator[PgServer]:
    """An embedded PostgreSQL of our own, which a test may stop and start."""
    yield from start_embedded(prefix="rt-restart-")
