"""Every transient database condition heals by itself, with no row lost or kept twice.

The conditions are the ones plants meet: a database that refuses connections
for a while (maintenance, a failover), a role that runs out of connection
slots, a privilege revoked and granted back. Each test restores what it
broke in a ``finally``, so one failure cannot spread to the next test.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx2 as httpx
import pytest

from tests.support.pg import READER_ROLE, TestDb, connect, run
from tests.support.server import LiveServer, serve, wait_until
from tests.support.wsclient import Viewer

T0 = datetime(2026, 3, 1, 6, 0, 0)
EPOCH = datetime(1970, 1, 1)


def ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


async def as_superuser(db: TestDb, *statements: str) -> None:
    """Runs statements on the server's maintenance database (the test database may refuse us)."""
    conn = await connect(db.admin, database="postgres")
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


def terminate_app_sessions(db: TestDb) -> str:
    return (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{db.admin.database}' AND usename = '{READER_ROLE}'"
    )


@pytest.fixture
def live(db: TestDb) -> Iterator[LiveServer]:
    for key in ("temperature", "ph", "do", "pressure"):
        run(db.insert(key, [(T0 + timedelta(seconds=i), 1.0) for i in range(60)]))
    with serve(db.settings(poll_interval=0.1)) as server:
        yield server


def all_ok(live: LiveServer) -> bool:
    body = httpx.get(f"{live.url}/readyz").json()
    return body["ready"] and all(s["state"] == "ok" for s in body["series"].values())


def test_refused_connections_heal_within_seconds_and_lose_nothing(live: LiveServer, db: TestDb) -> None:
    """Regression: after `ALTER DATABASE ... ALLOW_CONNECTIONS false` every series
    went to `error` and stayed there once the database was back; /readyz said
    200 and the page showed ERROR tiles until a restart. Refusals are now an
    outage of the database, and the first successful poll clears them."""
    viewer = Viewer(live.ws_url)
    viewer.wait_for(lambda v: bool(v.of_type("hello")))
    database = db.admin.database
    during = [(T0 + timedelta(minutes=5, seconds=i), 2.0) for i in range(10)]

    async def refuse_while_the_historian_writes() -> None:
        # The historian's session is older than the refusal, so it keeps writing.
        historian = await db.connect()
        try:
            await as_superuser(db, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false', terminate_app_sessions(db))
            await historian.executemany(f"INSERT INTO {db.qualified('do')} (time, value) VALUES ($1, $2)", during)
        finally:
            await historian.close()

    try:
        run(refuse_while_the_historian_writes())
        wait_until(lambda: httpx.get(f"{live.url}/readyz").status_code == 503, timeout=15)
        body = httpx.get(f"{live.url}/readyz").json()
        assert body["database"] == "down"
        assert body["kind"] in ("refused", "unreachable")
        viewer.wait_for(lambda v: any(m["db"]["state"] == "down" for m in v.of_type("status")))
        # No series is blamed for the database's outage.
        assert {s["state"] for s in body["series"].values()} == {"ok"}
        refused_at = time.monotonic()
        wait_until(lambda: time.monotonic() - refused_at > 10, timeout=15)
    finally:
        run(as_superuser(db, f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
    allowed = time.monotonic()
    wait_until(lambda: all_ok(live), timeout=30)
    healed = time.monotonic() - allowed
    viewer.wait_for(lambda v: v.of_type("status")[-1]["db"]["state"] == "up", timeout=30)
    run(db.insert("do", [(T0 + timedelta(minutes=6), 3.0)]))
    viewer.wait_for(lambda v: len(v.rows.get("do", [])) == 11, timeout=15)
    assert viewer.count("do") == Counter([(ms(t), v) for t, v in during] + [(ms(T0 + timedelta(minutes=6)), 3.0)])
    assert live.ctx.store["do"].n == 71
    assert healed < 30
    viewer.close()


def test_a_revoked_then_granted_privilege_heals(live: LiveServer, db: TestDb) -> None:
    """Regression: a series whose SELECT was revoked and granted back stayed in
    `error` for good while its rows flowed again: success never cleared it."""
    table = db.qualified("ph")
    try:
        run(db.execute(f"REVOKE SELECT ON {table} FROM {READER_ROLE}"))
        wait_until(lambda: live.ctx.store["ph"].state == "error", timeout=15)
        assert "permission denied" in (live.ctx.store["ph"].error or "")
        assert httpx.get(f"{live.url}/readyz").json()["database"] == "up"  # the database is fine
        run(db.insert("ph", [(T0 + timedelta(minutes=2), 7.5)]))
    finally:
        run(db.execute(f"GRANT SELECT ON {table} TO {READER_ROLE}"))
    wait_until(lambda: live.ctx.store["ph"].state == "ok", timeout=20)
    assert live.ctx.store["ph"].error is None
    wait_until(lambda: live.ctx.store["ph"].n == 61)


def test_out_of_connection_slots_is_an_outage_that_heals(db: TestDb) -> None:
    """ "Too many connections" (here: the role's limit) is reported as such, not as
    a healthy database with broken series, and heals when slots free up. The app
    connects as a role of this test's own, so limiting it disturbs nothing else."""
    role = f"rt_limited_{secrets.token_hex(4)}"
    run(
        as_superuser(
            db,
            f"CREATE ROLE {role} LOGIN PASSWORD 'limited'",
            f'GRANT CONNECT ON DATABASE "{db.admin.database}" TO {role}',
        )
    )
    run(db.execute(f"GRANT USAGE ON SCHEMA {db.schema} TO {role}"))
    run(db.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {db.schema} TO {role}"))
    for key in ("temperature", "ph", "do", "pressure"):
        run(db.insert(key, [(T0 + timedelta(seconds=i), 1.0) for i in range(60)]))
    settings = db.settings(poll_interval=0.1)
    settings = dataclasses.replace(settings, pg=dataclasses.replace(settings.pg, user=role, password="limited"))
    sessions = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
    try:
        with serve(settings) as live:
            try:
                run(as_superuser(db, f"ALTER ROLE {role} CONNECTION LIMIT 0", sessions))
                wait_until(lambda: httpx.get(f"{live.url}/readyz").json()["kind"] == "too-many-connections", timeout=15)
                assert httpx.get(f"{live.url}/readyz").status_code == 503
            finally:
                run(as_superuser(db, f"ALTER ROLE {role} CONNECTION LIMIT -1"))
            # Backoff for this kind reaches 30 s; the first retry comes well before.
            wait_until(lambda: all_ok(live), timeout=45)
    finally:
        run(db.execute(f"DROP OWNED BY {role}"))
        run(as_superuser(db, f'REVOKE CONNECT ON DATABASE "{db.admin.database}" FROM {role}', f"DROP ROLE {role}"))
