"""The dashboard in a real browser: charts drawn, rows arriving live."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import canvas_has_ink, dash
from tests.support.pg import TestDb, run

pytestmark = pytest.mark.browser
KEYS = ("temperature", "ph", "do", "pressure")


def test_four_charts_are_drawn_with_history(page: Page) -> None:
    for key in KEYS:
        chart = page.get_by_test_id(f"chart-{key}")
        expect(chart.locator("canvas").first).to_be_visible()
        assert canvas_has_ink(page, key), f"chart {key} drew nothing"
        assert dash(page, f"points('{key}')") > 100
    expect(page.get_by_test_id("chart-do")).to_contain_text("Dissolved oxygen")


def test_inserted_row_arrives_without_reload(page: Page, plant: TestDb) -> None:
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    t_ms = round((now - datetime(1970, 1, 1)).total_seconds() * 1000)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    run(plant.insert("ph", [(now, 6.54321)]))
    page.wait_for_function(f"() => window.__dashboard.lastT('ph') >= {t_ms}", timeout=10_000)
    expect(page.get_by_test_id("tile-ph-value")).to_have_text("6.543")
    assert navigations == []
