"""The database restarts under a running app: it keeps serving, reports the
outage, reconnects by itself and loses no rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx2 as httpx

from tests.support.pg import PgServer, create_database, create_schema, drop_database, run
from tests.support.server import serve, wait_until
from tests.support.wsclient import Viewer

T0 = datetime(2026, 2, 1, 0, 0, 0)


def test_database_restart_is_reported_and_survived(restartable_server: PgServer) -> None:
    admin = run(create_database(restartable_server.admin))
    db = run(create_schema(admin, restartable_server))
    run(db.insert("do", [(T0 + timedelta(seconds=i), 40.0) for i in range(100)]))
    try:
        with serve(db.settings(poll_interval=0.2)) as live:
            v = Viewer(live.ws_url)
            v.subscribe()
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
            v.close()
    finally:
        run(drop_database(restartable_server.admin, admin.database))
