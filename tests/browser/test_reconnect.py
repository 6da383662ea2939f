"""The connection status, and a reconnect that fills the gap after the server was away."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.helpers import backfill_db, open_dashboard, to_ms, utc_now, wait_live
from tests.support.pg import TestDb, run
from tests.support.server import free_port, serve

pytestmark = pytest.mark.browser


def test_reconnect_shows_status_and_fills_the_gap(browser: Browser, db: TestDb) -> None:
    run(backfill_db(db, 0.25, utc_now() - timedelta(seconds=1)))
    settings = db.settings(poll_interval=0.2)
    port = free_port()
    with ExitStack() as first:
        server = first.enter_context(serve(settings, port))
        with ExitStack() as tab:
            v = tab.enter_context(open_dashboard(browser, server, check_console=False))
            page = v.page
            status = page.get_by_test_id("connection-status")
            wait_live(v)
            expect(status.locator(".conn-text")).to_have_text("Live")

            first.close()  # the server goes away
            expect(status).to_have_attribute("data-state", "reconnecting")
            expect(status.locator(".conn-text")).to_have_text("Reconnecting…")

            # Rows written while the page had no server reach it after the reconnect, once each.
            gap = utc_now()
            run(db.insert("ph", [(gap, 6.625)]))
            with serve(settings, port):
                gap_ms = to_ms(gap)
                page.wait_for_function(f"() => window.__dashboard.lastT('ph') >= {gap_ms}", timeout=15_000)
                page.wait_for_function("() => window.__dashboard.connection === 'live'", timeout=15_000)
                expect(page.get_by_test_id("tile-ph-value")).to_have_text("6.625")
                assert v.dash(f"valuesAt('ph', {gap_ms})") == [6.625], (
                    "the row written while the server was away is on the tile but missing from the chart's data"
                )

                # And live rows flow again.
                later = utc_now()
                run(db.insert("ph", [(later, 6.75)]))
                page.wait_for_function(f"() => window.__dashboard.lastT('ph') >= {to_ms(later)}", timeout=10_000)
                expect(status).to_have_attribute("data-state", "live")
                assert v.dash(f"valuesAt('ph', {to_ms(later)})") == [6.75]
                assert v.dash(f"valuesAt('ph', {gap_ms})") == [6.625]
                tab.close()
    # The browser reports the refused connections while the server is away; nothing else.
    unexpected = [e for e in v.console.errors if "WebSocket connection" not in e and "ERR_CONNECTION_REFUSED" not in e]
    assert unexpected == [], f"JavaScript errors in the console: {unexpected}"
