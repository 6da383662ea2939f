"""SQL built from configuration only, quoting, zones, and the COPY decoder."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator
from datetime import datetime

import asyncpg
import pytest
from starlette.testclient import TestClient

from realtime.app import create_app
from realtime.db import SeriesSql, quiet_lost_connections
from realtime.series import SeriesSpec, quote_ident
from tests.support.pg import TestDb, run
from tests.support.server import wait_until


def test_identifiers_are_quoted() -> None:
    assert quote_ident('a"b') == '"a""b"'
    sql = SeriesSql(SeriesSpec("x", 'CM/x"; DROP TABLE t; --', "X", schema="s"), "UTC")
    assert sql.table == '"s"."CM/x""; DROP TABLE t; --"'
    assert "$1" in sql.rows_from()


def _client(db: TestDb, **settings: object) -> Iterator[TestClient]:
    app = create_app(db.settings(**settings))
    with TestClient(app) as client:
        wait_until(
            lambda: all(s.loaded or s.state in ("missing", "error") for s in app.state.ctx.store.series.values())
        )
        yield client


@pytest.fixture
def berlin(db: TestDb) -> Iterator[TestClient]:
    # 13:00 wall-clock in Berlin in January is 12:00 UTC.
    run(db.insert("ph", [(datetime(2025, 1, 15, 13, 0, 0), 7.0)]))
    yield from _client(db, data_timezone="Europe/Berlin")


def test_naive_timestamps_are_read_in_the_data_timezone(berlin: TestClient) -> None:
    ph = next(s for s in berlin.get("/api/series").json() if s["key"] == "ph")
    assert ph["last"] == "2025-01-15T12:00:00.000Z"
    body = berlin.get("/api/series/ph/data", params={"start": "2025-01-15T11:59:59Z", "end": "2025-01-15T12:00:00Z"})
    assert body.json()["t"] == [1_736_942_400_000]


def test_timestamptz_column_is_used_as_is(db: TestDb) -> None:
    table = db.qualified("do")
    run(db.execute(f"ALTER TABLE {table} ALTER COLUMN time TYPE timestamptz USING time AT TIME ZONE 'UTC'"))
    run(db.execute(f"INSERT INTO {table} VALUES ('2025-01-15T12:00:00+00', 40.5)"))
    for client in _client(db, data_timezone="Europe/Berlin"):
        do = next(s for s in client.get("/api/series").json() if s["key"] == "do")
        assert do["last"] == "2025-01-15T12:00:00.000Z"


def test_table_with_hostile_name_is_read_safely(db: TestDb) -> None:
    name = 'weird"; DROP TABLE x; --'
    spec = SeriesSpec("weird", name, "Weird", schema=db.schema)
    run(db.execute(f"CREATE TABLE {db.schema}.{quote_ident(name)} (time timestamp, value float8)"))
    run(db.execute(f"INSERT INTO {db.schema}.{quote_ident(name)} VALUES ('2025-01-01', 1.5)"))
    for client in _client(db, series=(*db.series, spec)):
        weird = client.get("/api/series/weird/data").json()
        assert weird["v"] == [1.5]
        # Request input is a bind parameter or a lookup key, never SQL.
        r = client.get("/api/series/temperature;DROP TABLE x/data")
        assert r.status_code == 404
        r = client.get("/api/series/weird/data", params={"start": "2025-01-01'; DROP TABLE x; --"})
        assert r.status_code == 400


def test_table_with_wrong_column_types_is_an_error_while_others_work(db: TestDb) -> None:
    """Regression: an exception the poller did not expect escaped its loop and
    ended the lifespan's task group, taking the whole app down. Unusable tables
    are now reported per series, and any other error marks the series and retries."""
    table = db.qualified("do")
    run(db.execute(f"ALTER TABLE {table} ALTER COLUMN time TYPE date"))
    run(db.insert("ph", [(datetime(2025, 1, 1), 7.0)]))
    for client in _client(db):
        series = {s["key"]: s for s in client.get("/api/series").json()}
        assert series["do"]["state"] == "error"
        assert "column 'time' is date" in series["do"]["error"]
        assert series["ph"]["count"] == 1
        assert client.get("/readyz").status_code == 200


async def test_an_orphaned_lost_connection_operation_is_not_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """asyncpg can leave a failed operation's waiter to fail again when the socket closes (the server
    shutting down): asyncio then logs "Future exception was never retrieved" as an ERROR. Inside the
    app that is a second report of an outage already logged once; anything else still reaches the log."""
    loop = asyncio.get_running_loop()
    before = loop.get_exception_handler()

    def orphan(exc: Exception) -> None:
        # A future that failed and that nobody awaits: asyncio reports it when it is collected.
        fut = loop.create_future()
        fut.set_exception(exc)
        del fut
        gc.collect()

    with caplog.at_level(logging.DEBUG), quiet_lost_connections(loop):
        orphan(asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"))
        orphan(ValueError("a real bug"))
    assert loop.get_exception_handler() is before
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [str(r.exc_info[1]) if r.exc_info else r.getMessage() for r in errors] == ["a real bug"]
    quiet = [r for r in caplog.records if r.name == "realtime.db" and r.levelno == logging.DEBUG]
    assert [r.getMessage() for r in quiet] == [
        "a lost connection's pending operation: connection was closed in the middle of operation"
    ]
