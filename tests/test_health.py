"""Database health: one honest state, the reason for an outage, and retries that never hammer."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import datetime
from typing import Any

import httpx2 as httpx
import pytest

from realtime.health import MAX_RETRY, DbHealth
from tests.support.pg import PgServer, TestDb, create_database, create_schema, drop_database, run
from tests.support.server import serve, wait_until
from tests.support.wsclient import Viewer

T0 = datetime(2026, 3, 1, 6, 0, 0)


async def test_one_caller_probes_a_database_that_is_down() -> None:
    """While the database is down, four pollers cost it one attempt per retry, not four."""
    changes: list[dict[str, Any]] = []
    health = DbHealth(changes.append)
    health.failed(OSError("connection refused"), "unreachable")
    passed: list[int] = []

    async def poller(i: int) -> None:
        await health.turn()
        passed.append(i)

    tasks = [asyncio.create_task(poller(i)) for i in range(4)]
    # One passes to probe; the other three wait for its outcome.
    await asyncio.wait_for(_until(lambda: len(passed) == 1 and health.waiting == 3), 5)
    health.succeeded()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert [c["state"] for c in changes] == ["down", "up"]
    assert changes[0]["kind"] == "unreachable"


def test_a_wrong_password_is_retried_at_most_every_few_minutes() -> None:
    """Regression: wrong credentials were retried about 48 times a minute forever,
    which can lock a plant account in LDAP or AD. Authentication failures back
    off, with jitter, to minutes."""
    health = DbHealth(lambda _: None)
    waits = []
    for _ in range(12):
        health.failed(Exception("password authentication failed"), "auth")
        waits.append(health.retry_in or 0.0)
    assert waits[0] < 1
    assert max(waits) <= MAX_RETRY["auth"]
    assert sum(waits[:8]) > 60  # at most eight attempts in the first minute
    assert waits[-1] >= MAX_RETRY["auth"] / 2  # then one every 2.5 to 5 minutes


async def _until(predicate: Any) -> None:
    while not predicate():  # noqa: ASYNC110 - the state lives in plain attributes
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(
    ("change", "kind", "words"),
    [
        # A role the server does not know: 28000, the class of a wrong password's
        # 28P01, which these test servers (trust authentication) cannot produce.
        ({"user": "no_such_role"}, "auth", 'role "no_such_role" does not exist'),
        ({"database": "no_such_database"}, "no-database", "does not exist"),
    ],
)
def test_refused_credentials_are_reported_as_such(db: TestDb, change: dict[str, str], kind: str, words: str) -> None:
    """Regression: with a wrong password or a missing database /readyz said 200
    "up" while every series was in `error`, and viewers got no status."""
    settings = db.settings()
    settings = dataclasses.replace(settings, pg=dataclasses.replace(settings.pg, **change))  # type: ignore[arg-type]
    with serve(settings, wait_loaded=False) as live:
        wait_until(lambda: httpx.get(f"{live.url}/readyz").json()["kind"] == kind, timeout=15)
        ready = httpx.get(f"{live.url}/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert words in body["error"]
        assert words in body["reason"]
        assert body["retry_in_s"] is not None
        viewer = Viewer(live.ws_url)
        viewer.wait_for(lambda v: bool(v.of_type("hello")))
        db_state = viewer.of_type("hello")[0]["db"]
        assert (db_state["state"], db_state["kind"]) == ("down", kind)
        # Nothing was loaded, and the app says it cannot tell rather than "no data".
        for path in ("/api/series/ph/data", "/api/series/ph/stats", "/api/export.csv"):
            r = httpx.get(f"{live.url}{path}")
            assert r.status_code == 503, path
            assert "has not been loaded" in r.json()["error"]
        viewer.close()


def test_an_outage_at_start_up_says_503_until_the_database_is_back(restartable_server: PgServer) -> None:
    """Regression: during a start-up outage /api/export.csv answered 200 with only
    the header, as if the window held no rows."""
    admin = run(create_database(restartable_server.admin))
    db = run(create_schema(admin, restartable_server))
    run(db.insert("ph", [(T0, 7.0)]))
    restartable_server.stop()
    try:
        with serve(db.settings(poll_interval=0.1), wait_loaded=False) as live:
            wait_until(lambda: httpx.get(f"{live.url}/readyz").json()["database"] == "down", timeout=15)
            r = httpx.get(f"{live.url}/api/export.csv", params={"series": "ph"})
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/json")
            restartable_server.start()
            wait_until(lambda: live.ctx.store["ph"].loaded, timeout=30)
            r = httpx.get(f"{live.url}/api/export.csv", params={"series": "ph", "start": 0, "end": 2**41})
            assert r.status_code == 200
            assert r.text.splitlines()[1:] == ["2026-03-01T06:00:00.000Z,7.0"]
    finally:
        restartable_server.start()
        run(drop_database(restartable_server.admin, admin.database))


def test_work_that_began_before_an_outage_does_not_end_it() -> None:
    """Regression: while PostgreSQL was shutting down, a query that had begun before
    the first failure could still succeed, and health logged "down, up, down, up"
    for one outage. Only work that began after the latest failure ends it."""
    changes: list[dict[str, Any]] = []
    health = DbHealth(changes.append)
    began = time.monotonic()
    health.failed(OSError("the database system is shutting down"), "refused")
    health.succeeded(began)
    assert health.state == "down"
    health.succeeded(time.monotonic())
    assert [c["state"] for c in changes] == ["down", "up"]
