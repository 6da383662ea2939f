"""Configured low/high limits: drawn on the chart, and a sample outside them is flagged."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.helpers import backfill_db, open_dashboard, plant_server, to_ms, utc_now
from tests.browser.reading import x_of, y_of
from tests.support.pg import TestDb, run

pytestmark = pytest.mark.browser
ALARM = re.compile(r"\bis-alarm\b")


def alarm_pixels_near(page: Page, key: str, x: float, y: float, radius: float = 6) -> int:
    """Opaque pixels in the theme's alarm colour within ``radius`` CSS px of a viewport point."""
    script = """([key, x, y, radius]) => {
        const probe = document.createElement('canvas').getContext('2d');
        probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--alarm').trim();
        probe.fillRect(0, 0, 1, 1);
        const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
        const c = document.querySelector(`[data-testid="chart-${key}"] canvas`);
        const box = c.getBoundingClientRect();
        const s = c.width / box.width;
        const x0 = Math.round((x - radius - box.left) * s), y0 = Math.round((y - radius - box.top) * s);
        const n0 = Math.round(2 * radius * s);
        const d = c.getContext('2d').getImageData(x0, y0, n0, n0).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 200 && Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - g) < 40 && Math.abs(d[i + 2] - b) < 40) n++;
        }
        return n;
    }"""
    return int(page.evaluate(script, [key, x, y, radius]))


def test_sample_outside_limits_is_flagged_on_tile_and_chart(browser: Browser, db: TestDb) -> None:
    run(backfill_db(db, 0.5, utc_now() - timedelta(seconds=1)))
    series = tuple(dataclasses.replace(s, low=36.5, high=37.5) if s.key == "temperature" else s for s in db.series)
    with plant_server(db, series=series) as server, open_dashboard(browser, server) as v:
        page = v.page
        tile = page.get_by_test_id("tile-temperature")
        expect(tile).to_have_attribute("title", re.compile(r"^Limits: 36\.50* \S 37\.50*$"))
        # The limits are on the tile itself, not only in its hover title.
        expect(page.get_by_test_id("tile-temperature-limits")).to_be_visible()
        expect(page.get_by_test_id("tile-temperature-limits")).to_have_text("low 36.50 · high 37.50")
        expect(tile).not_to_have_class(ALARM)
        expect(tile.locator(".tile-flag")).to_be_hidden()

        t = utc_now()
        run(db.insert("temperature", [(t, 38.25)]))
        page.wait_for_function(f"() => window.__dashboard.lastT('temperature') >= {to_ms(t)}", timeout=10_000)
        expect(page.get_by_test_id("tile-temperature-value")).to_have_text("38.25")
        expect(tile).to_have_class(ALARM)
        expect(tile.locator(".tile-flag")).to_have_text("Above high limit")
        # On the chart the sample is marked in the alarm colour, above the high limit line.
        page.wait_for_function(
            f"() => window.__dashboard.yAxis('temperature').max > 38.25 && window.__dashboard.window.end >= {to_ms(t)}"
        )
        page.wait_for_function(
            "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"
        )
        x, y = x_of(page, "temperature", to_ms(t)), y_of(page, "temperature", 38.25)
        assert alarm_pixels_near(page, "temperature", x, y) > 10, "the out-of-limit sample is not marked"
        assert y < y_of(page, "temperature", 37.5)

        t2 = utc_now()
        run(db.insert("temperature", [(t2, 37.0)]))
        expect(page.get_by_test_id("tile-temperature-value")).to_have_text("37.00")
        expect(tile.locator(".tile-flag")).to_be_hidden()
