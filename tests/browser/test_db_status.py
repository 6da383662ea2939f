"""The connection status and banner while the database is down, and after it is back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.helpers import backfill_db, open_dashboard, plant_server, to_ms, utc_now, wait_live
from tests.support.pg import PgServer, create_database, create_schema, drop_database, run

pytestmark = pytest.mark.browser


def test_database_outage_is_shown_and_recovers(browser: Browser, restartable_server: PgServer) -> None:
    admin = run(create_database(restartable_server.admin))
    try:
        db = run(create_schema(admin, restartable_server))
        run(backfill_db(db, 0.25, utc_now() - timedelta(seconds=1)))
        with plant_server(db) as server, open_dashboard(browser, server) as v:
            page = v.page
            status = page.get_by_test_id("connection-status")
            banner = page.locator("#banner")
            wait_live(v)
            expect(banner).to_be_hidden()

            restartable_server.stop()
            expect(status).to_have_attribute("data-state", "db-down", timeout=15_000)
            expect(status.locator(".conn-text")).to_have_text("Database unavailable")
            expect(banner).to_be_visible()
            expect(banner).to_contain_text("Database unavailable since")
            # The charts keep what they show.
            assert all(v.dash(f"points('{k}')") > 0 for k in ("temperature", "ph", "do", "pressure"))

            restartable_server.start()
            page.wait_for_function("() => window.__dashboard.connection === 'live'", timeout=20_000)
            expect(status).not_to_have_attribute("data-state", "db-down")
            expect(banner).to_contain_text("restored")
            # And rows flow again: the pill says Live.
            t = utc_now()
            run(db.insert("do", [(t, 44.5)]))
            page.wait_for_function(f"() => window.__dashboard.lastT('do') >= {to_ms(t)}", timeout=10_000)
            expect(page.get_by_test_id("tile-do-value")).to_have_text("44.50")
            expect(status).to_have_attribute("data-state", "live")
    finally:
        run(drop_database(restartable_server.admin, admin.database))
