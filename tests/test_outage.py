"""The database stops under a running app: it keeps serving what it holds,
reports the outage, answers 503 for what it cannot serve, reconnects by itself
and loses no rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx2 as httpx
import pytest

from tests.support.pg import PgServer, TestDb, create_database, create_schema, drop_database, run
from tests.support.server import serve, wait_until
from tests.support.wsclient import Viewer

T0 = datetime(2026, 2, 1, 0, 0, 0)


def ms(dt: datetime) -> int:
    return round((dt - datetime(1970, 1, 1)).total_seconds() * 1000)


@pytest.fixture
def outage_db(restartable_server: PgServer) -> Iterator[TestDb]:
    """A schema on the restartable server; whatever a test does, the server is running again afterwards."""
    admin = run(create_database(restartable_server.admin))
    try:
        yield run(create_schema(admin, restartable_server))
    finally:
        restartable_server.start()  # a no-op when it is running
        run(drop_database(restartable_server.admin, admin.database))


def test_database_restart_is_reported_and_survived(restartable_server: PgServer, outage_db: TestDb) -> None:
    db = outage_db
    run(db.insert("do", [(T0 + timedelta(seconds=i), 40.0) for i in range(100)]))
    with serve(db.settings(poll_interval=0.2)) as live:
        v = Viewer(live.ws_url)
        try:
            v.subscribe_and_wait(since={"do": ms(T0 + timedelta(seconds=99))})
            restartable_server.stop()
            v.wait_for(lambda v: any(m["db"]["state"] == "down" for m in v.of_type("status")), timeout=15)
            assert httpx.get(f"{live.url}/healthz").status_code == 200
            ready = httpx.get(f"{live.url}/readyz")
            assert ready.status_code == 503
            assert ready.json()["database"] == "down"
            # The stored history is still served during the outage.
            body = httpx.get(f"{live.url}/api/series/do/data").json()
            assert len(body["t"]) == 100

            restartable_server.start()
            # Rows written before the app has noticed the database is back.
            run(db.insert("do", [(T0 + timedelta(seconds=100 + i), 41.0) for i in range(5)]))
            v.wait_for(lambda v: any(m["db"]["state"] == "up" for m in v.of_type("status")), timeout=20)
            v.wait_for(lambda v: len(v.rows.get("do", [])) == 5, timeout=10)
            assert httpx.get(f"{live.url}/readyz").status_code == 200
            wait_until(lambda: live.ctx.store["do"].n == 105)
        finally:
            v.close()


def test_ranges_older_than_the_store_are_503_while_the_database_is_down(
    restartable_server: PgServer, outage_db: TestDb
) -> None:
    """Guards the outage contract for history: what is in memory is served, what
    would need PostgreSQL is a JSON 503 (not a 500, not an empty window, not a
    hang), for /data, /stats and the CSV export alike; /readyz is 503 meanwhile."""
    db = outage_db
    n = 3000
    run(db.insert("pressure", [(T0 + timedelta(seconds=i), float(i)) for i in range(n)]))
    with serve(db.settings(store_max_points=1000, poll_interval=0.2)) as live:
        store = live.ctx.store["pressure"]
        assert store.covered_from is not None
        old = {"start": "2026-02-01T00:00:00Z", "end": "2026-02-01T00:10:00Z"}
        recent = {"start": "2026-02-01T00:49:00Z", "end": "2026-02-01T00:49:59Z"}
        # While up, the old range comes from PostgreSQL.
        assert httpx.get(f"{live.url}/api/series/pressure/data", params=old).json()["count"] == 601

        restartable_server.stop()
        wait_until(lambda: live.ctx.health.state == "down", timeout=15)
        ready = httpx.get(f"{live.url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"] == "down"

        unavailable = "the database is unavailable; pressure before the stored range is not in memory"
        for route in ("data", "stats"):
            r = httpx.get(f"{live.url}/api/series/pressure/{route}", params=old)
            assert r.status_code == 503, r.text
            assert r.json() == {"error": unavailable}
        r = httpx.get(f"{live.url}/api/export.csv", params={**old, "series": "pressure"})
        assert r.status_code == 503, r.text
        assert r.json() == {"error": "the database is unavailable; pressure before the stored range is not in memory"}
        # What the store holds is still served.
        body = httpx.get(f"{live.url}/api/series/pressure/data", params=recent).json()
        assert body["t"][0] == ms(T0 + timedelta(seconds=2940))
        assert body["v"] == [float(2940 + i) for i in range(60)]
        csv = httpx.get(f"{live.url}/api/export.csv", params={**recent, "series": "pressure", "layout": "long"})
        assert csv.status_code == 200
        assert csv.text.count("\r\n") == 1 + 60

        restartable_server.start()
        wait_until(lambda: live.ctx.health.state == "up", timeout=20)
        assert httpx.get(f"{live.url}/readyz").status_code == 200
        assert httpx.get(f"{live.url}/api/series/pressure/data", params=old).json()["count"] == 601
