"""The y range of a chart (#7): set by hand from the keyboard and kept in the URL,
and limits that stay visible however far the data is from them, in both themes."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.checks import query
from tests.browser.helpers import Viewer, backfill_db, open_dashboard, plant_server, utc_now, wait_ready
from tests.browser.reading import computed_color, contrast, ink_in_row, y_axis, y_of
from tests.support.pg import TestDb, run

pytestmark = pytest.mark.browser


def test_manual_y_range_from_the_keyboard_survives_a_reload(viewer: Viewer) -> None:
    page = viewer.page
    control = page.get_by_test_id("yrange-do")
    expect(control).to_have_accessible_name("Y auto: y range of Dissolved oxygen is automatic; change")
    assert y_axis(page, "do")["manual"] is False

    # Keyboard only: focus the control, open it, type the range, submit.
    control.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("yrange-do-min")).to_be_focused()
    expect(page.get_by_test_id("yrange-do-min")).to_have_accessible_name("Dissolved oxygen: lowest value shown")
    page.keyboard.press("Control+A")
    page.keyboard.type("30")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("yrange-do-max")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("50")
    page.keyboard.press("Enter")

    page.wait_for_function("() => window.__dashboard.yAxis('do').manual")
    axis = y_axis(page, "do")
    assert (axis["min"], axis["max"]) == (30, 50)
    assert axis["labels"][0] == "30"
    assert axis["labels"][-1] == "50"
    assert query(page.url)["y.do"] == ["30,50"]
    assert "y.do=30,50" in page.url, "the range reads plainly in the link"
    expect(control).to_have_accessible_name("Y 30.00 \u2013 50.00: y range of Dissolved oxygen is fixed; change")
    expect(control).to_be_focused()
    # The other charts keep their automatic range.
    assert y_axis(page, "ph")["manual"] is False

    # A reload (or the link) keeps it.
    page.reload()
    wait_ready(page)
    axis = y_axis(page, "do")
    assert (axis["min"], axis["max"], axis["manual"]) == (30, 50, True)
    expect(control).to_have_text("Y 30.00 \u2013 50.00")

    # And it goes back to automatic.
    control.click()
    page.get_by_test_id("yrange-do-auto").click()
    page.wait_for_function("() => !window.__dashboard.yAxis('do').manual")
    assert "y.do" not in query(page.url)
    expect(control).to_have_text("Y auto")


def test_manual_y_range_refuses_a_reversed_range(viewer: Viewer) -> None:
    page = viewer.page
    page.get_by_test_id("yrange-ph").click()
    page.get_by_test_id("yrange-ph-min").fill("8")
    page.get_by_test_id("yrange-ph-max").fill("6")
    page.get_by_test_id("yrange-ph-apply").click()
    expect(page.get_by_test_id("chart-ph").locator(".yrange .range-error")).to_have_text(
        "The highest value must be above the lowest"
    )
    assert y_axis(page, "ph")["manual"] is False
    assert "y.ph" not in query(page.url)
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("yrange-ph-min")).to_be_hidden()


def test_limits_are_drawn_far_from_the_data_in_both_themes(browser: Browser, db: TestDb) -> None:
    run(backfill_db(db, 0.5, utc_now() - timedelta(seconds=1)))
    # Temperature runs near 37 °C; its limits are far away.
    series = tuple(dataclasses.replace(s, low=20.0, high=50.0) if s.key == "temperature" else s for s in db.series)
    with plant_server(db, series=series) as server:
        for theme in ("light", "dark"):
            with open_dashboard(browser, server, color_scheme=theme) as v:
                page = v.page
                expect(page.locator("html")).to_have_attribute("data-theme", theme)
                # The tile shows them without hovering.
                expect(page.get_by_test_id("tile-temperature-limits")).to_have_text("low 20.00 · high 50.00")
                expect(page.get_by_test_id("tile-temperature-limits")).to_be_visible()
                axis = y_axis(page, "temperature")
                assert axis["min"] < 20, axis
                assert axis["max"] > 50, axis
                assert axis["limits"] == ["high 50.00", "low 20.00"]
                # Both limit lines are on the canvas, in the alarm colour, across the plot.
                width = page.get_by_test_id("chart-temperature").locator(".u-over").bounding_box()
                assert width is not None
                for limit in (20.0, 50.0):
                    dashes = ink_in_row(page, "temperature", y_of(page, "temperature", limit), "--alarm")
                    assert dashes > width["width"] * 0.4, f"{theme}: limit {limit} drew {dashes} px"
                # The alarm colour reads on this theme's background (and is no series' colour).
                alarm = computed_color(page, "--alarm")
                assert contrast(alarm, computed_color(page, "--surface")) >= 4.5, f"{theme}: {alarm}"
                for i in range(1, 5):
                    assert computed_color(page, f"--series-{i}") != alarm

        # With a y range set by hand that leaves the limits out, the edges say where they are.
        with open_dashboard(browser, server, "/?y.temperature=36,38") as v:
            axis = y_axis(v.page, "temperature")
            assert (axis["min"], axis["max"]) == (36, 38)
            assert axis["limits"] == ["▲ high limit 50.00 (off scale)", "▼ low limit 20.00 (off scale)"]
            expect(v.page.get_by_test_id("yrange-temperature")).to_have_text("Y 36.00 \u2013 38.00")
