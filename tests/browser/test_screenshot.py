"""The README's screenshot: the dashboard on a live simulated run, written to docs/screenshot.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from realtime.config import PgSettings
from tests.browser.helpers import (
    KEYS,
    canvas_has_ink,
    open_dashboard,
    plant_schema,
    plant_server,
    simulating,
    wait_live,
)
from tests.support.pg import PgServer

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"


def test_screenshot(browser: Browser, pg_admin: PgSettings, pg_server: PgServer) -> None:
    # As the demo: hours of history, and the simulator writing rows live.
    db = plant_schema(pg_admin, pg_server)
    with (
        plant_server(db, demo=True) as server,
        simulating(db),
        open_dashboard(browser, server, color_scheme="light", device_scale_factor=1) as v,
    ):
        page = v.page
        wait_live(v)
        # Every series has received a live row, so the tiles read fresh and the status shows the update time.
        page.wait_for_function(
            "(keys) => keys.every((k) => Date.now() - window.__dashboard.lastT(k) < 10000)", arg=list(KEYS)
        )
        expect(page.get_by_test_id("connection-status").locator(".conn-time")).not_to_be_empty()
        expect(page.locator("html")).to_have_attribute("data-theme", "light")
        page.wait_for_function("() => !document.querySelector('[data-testid^=\"stats-\"].is-pending')")
        for key in KEYS:
            expect(page.get_by_test_id(f"stats-{key}")).to_contain_text("mean")
            expect(page.get_by_test_id(f"tile-{key}-value")).not_to_have_text("—")
            assert canvas_has_ink(page, key), f"chart {key} drew nothing"
        page.mouse.move(0, 0)  # no hover, no tooltip
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), animations="disabled")
    assert SCREENSHOT.stat().st_size > 20_000
