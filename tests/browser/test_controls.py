"""The time-window controls in a real browser, against one shared server.

The module shares one plant (three hours of history ending now) and one
server; every test opens a fresh tab, so each starts from the default view
(live, last hour). Tests that write rows write them at "now", which only
moves the newest row forward.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.checks import (
    PRESETS,
    api,
    api_count,
    assert_charts_show,
    db_counts,
    fill_range,
    insert_now,
    newest_ms,
    query,
)
from tests.browser.helpers import (
    HOUR,
    KEYS,
    MINUTE,
    Viewer,
    canvas_has_ink,
    canvas_pixels,
    cursor_time,
    drag,
    from_ms,
    iso_to_ms,
    loads,
    open_dashboard,
    plot_box,
    stat_values,
    wait_live,
    wait_stats,
)
from tests.support.pg import TestDb
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


# ---- time window -------------------------------------------------------------------


def test_presets_change_range_and_data(viewer: Viewer, module_plant: TestDb) -> None:
    v, page = viewer, viewer.page
    expect(page.get_by_test_id("preset-1h")).to_have_attribute("aria-pressed", "true")
    start, end = v.window
    assert end - start == HOUR, "the default view is the last hour"
    hour_points = {k: v.dash(f"points('{k}')") for k in KEYS}

    loads(v, page.get_by_test_id("preset-15m").click)
    start, end = v.window
    assert end - start == 15 * MINUTE
    assert end == newest_ms(v), "a preset window ends at the newest row"
    assert query(page.url)["range"] == ["15m"]
    expect(page.get_by_test_id("preset-15m")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("preset-1h")).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_test_id("live-toggle")).to_have_attribute("aria-pressed", "true")
    for key in KEYS:
        points = v.dash(f"points('{key}')")
        assert 0 < points < hour_points[key], f"{key}: {points} points in 15 min, {hour_points[key]} in 1 h"
        # Fifteen minutes fit the chart's width: the page holds exactly the window's raw rows.
        assert v.dash(f"downsampled('{key}')") is False
        assert v.dash(f"rowsInWindow('{key}')") == api_count(v, key, start, end)

    loads(v, page.get_by_test_id("preset-6h").click)
    start, end = v.window
    assert end - start == 6 * HOUR
    assert query(page.url)["range"] == ["6h"]
    wait_stats(v)
    totals = db_counts(module_plant)
    for key in KEYS:
        assert v.dash(f"points('{key}')") > hour_points[key], f"{key}: 6 h shows no more data than 1 h"
        # Six hours hold the whole three-hour run: the statistics count every row in the table.
        rows = int(stat_values(page, key)["rows"].replace(",", ""))
        assert rows == totals[key], f"{key}: stats count {rows} rows, the table holds {totals[key]}"

    for preset, span in (("preset-24h", 24 * HOUR), ("preset-7d", 7 * 24 * HOUR)):
        loads(v, page.get_by_test_id(preset).click)
        start, end = v.window
        assert end - start == span, preset
        assert query(page.url)["range"] == [preset.removeprefix("preset-")]
        expect(page.get_by_test_id(preset)).to_have_attribute("aria-pressed", "true")

    loads(v, page.get_by_test_id("preset-all").click)
    series = api(v, "/api/series")
    assert isinstance(series, list)
    first = min(iso_to_ms(s["first"]) for s in series)
    last = max(iso_to_ms(s["last"]) for s in series)
    assert v.window == (first, last), "All data covers the first row to the last"
    assert query(page.url)["range"] == ["all"]
    assert all(v.dash(f"points('{k}')") > hour_points[k] for k in KEYS)


def test_drag_zoom_moves_all_four_charts(viewer: Viewer) -> None:
    v, page = viewer, viewer.page
    loads(v, page.get_by_test_id("preset-6h").click)
    start0, end0 = v.window
    assert v.dash("downsampled('do')") is True, "three hours of 1 s samples are downsampled to the chart's width"

    # Drag across the pH chart (the second one) over 5 % of its width: 18 minutes.
    loads(v, lambda: drag(page, "ph", 0.85, 0.9))
    start, end = v.window
    span0 = end0 - start0
    assert abs(start - (start0 + 0.85 * span0)) < 0.005 * span0, "zoom start is where the drag began"
    assert abs(end - (start0 + 0.9 * span0)) < 0.005 * span0, "zoom end is where the drag ended"
    assert v.dash("live") is False

    # All four charts (not only the one dragged on) now show exactly the new window.
    assert_charts_show(v, start, end)
    q = query(page.url)
    assert (q["start"], q["end"]) == ([str(start)], [str(end)])

    # The zoomed range is fetched again at full resolution: every raw row of the window.
    for key in KEYS:
        assert v.dash(f"downsampled('{key}')") is False, key
        assert v.dash(f"rowsInWindow('{key}')") == api_count(v, key, start, end), key
        assert canvas_has_ink(page, key), key

    # Zoom out (the button) doubles the span around the same centre, on every chart.
    loads(v, page.locator("#zoom-out").click)
    start2, end2 = v.window
    assert end2 - start2 == pytest.approx(2 * (end - start), abs=2)
    assert (start2 + end2) / 2 == pytest.approx((start + end) / 2, abs=2)
    assert_charts_show(v, start2, end2)


def test_pan_zoom_out_back_and_tooltip(viewer: Viewer) -> None:
    v, page = viewer, viewer.page
    live_window = v.window
    loads(v, lambda: drag(page, "do", 0.4, 0.6))
    start, end = v.window
    span = end - start

    # Shift+drag pans every chart by the distance dragged, keeping the span.
    loads(v, lambda: drag(page, "temperature", 0.7, 0.2, shift=True))
    box = plot_box(page, "temperature")
    y = box["y"] + box["height"] / 2
    panned = v.window
    assert panned[1] - panned[0] == span
    assert panned[0] - start == pytest.approx(0.5 * span, rel=0.03), "dragging right to left moves later in time"
    assert v.dash("live") is False
    assert_charts_show(v, *panned)

    # Double-click zooms out around the same centre.
    loads(v, lambda: page.mouse.dblclick(box["x"] + box["width"] / 2, y))
    out = v.window
    assert out[1] - out[0] == pytest.approx(2 * span, abs=2)
    assert (out[0] + out[1]) / 2 == pytest.approx((panned[0] + panned[1]) / 2, abs=2)

    # The tooltip lists every series at the cursor time.
    cursor_time(page, "pressure", box["width"] / 3)
    rows = page.get_by_test_id("chart-pressure").locator(".tooltip .tt-row")
    expect(rows).to_have_count(4)
    expect(rows.locator(".tt-name")).to_have_text(["Temperature", "pH", "Dissolved oxygen", "Pressure"])
    for value in rows.locator(".tt-value").all_inner_texts():
        assert re.fullmatch(r"-?\d+\.\d+|no data", value), value
    # Each value says where it comes from: the sample in force and its own time, or an outage.
    for when in rows.locator(".tt-when").all_inner_texts():
        assert re.fullmatch(r"(sample at|held since) \d\d:\d\d:\d\d(\.\d{3})?|outage from .+ to .+", when), when
    page.mouse.move(1, 1)

    # Back undoes one step at a time: the pan, then the zoom, then returns to Live.
    loads(v, page.locator("#back").click)
    assert v.window == panned
    loads(v, page.locator("#back").click)
    assert v.window == (start, end)
    loads(v, page.locator("#back").click)
    assert v.dash("live") is True
    assert v.window == live_window
    expect(page.locator("#back")).to_be_disabled()


def test_live_pauses_on_zoom_and_resumes(viewer: Viewer, module_plant: TestDb) -> None:
    v, page = viewer, viewer.page
    live = page.get_by_test_id("live-toggle")
    expect(live).to_have_attribute("aria-pressed", "true")
    wait_live(v)

    loads(v, lambda: drag(page, "temperature", 0.2, 0.5))
    expect(live).to_have_attribute("aria-pressed", "false")
    zoomed = v.window

    # Rows keep arriving, but never move the zoom the user chose.
    t1 = insert_now(v, module_plant, "do", 55.5)
    assert v.window == zoomed
    assert v.dash("live") is False

    loads(v, live.click)
    expect(live).to_have_attribute("aria-pressed", "true")
    start, end = v.window
    assert end - start == HOUR, "Live returns to the span it had"
    assert end == t1, "a live window ends at the newest row"
    assert query(page.url)["range"] == ["1h"]

    # And slides as rows arrive.
    t2 = insert_now(v, module_plant, "ph", 7.01)
    page.wait_for_function(f"() => window.__dashboard.window.end === {t2}", timeout=10_000)
    start, end = v.window
    assert end - start == HOUR


def test_new_row_updates_tile_and_chart_without_reload(viewer: Viewer, module_plant: TestDb) -> None:
    v, page = viewer, viewer.page
    wait_live(v)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.evaluate("() => { window.__sameDocument = true; }")
    before = canvas_pixels(page, "temperature")

    t = insert_now(v, module_plant, "temperature", 41.5)

    expect(page.get_by_test_id("tile-temperature-value")).to_have_text("41.50")
    expect(page.get_by_test_id("tile-temperature-age")).to_have_text(re.compile(r"just now|\d+ s ago"))
    assert v.dash(f"valuesAt('temperature', {t})") == [41.5], "the chart's data holds the new row"
    assert v.dash("window.end") == t, "the live window moved to the new row"
    page.wait_for_function(
        """(before) => document.querySelector('[data-testid="chart-temperature"] canvas').toDataURL() !== before""",
        arg=before,
        timeout=5_000,
    )
    assert navigations == []
    assert page.evaluate("() => window.__sameDocument") is True


def test_absolute_range_apply(browser: Browser, module_server: LiveServer) -> None:
    """The pickers are in the browser's zone (here New York) and set a fixed window."""
    zone = ZoneInfo("America/New_York")
    with open_dashboard(browser, module_server, timezone_id="America/New_York") as v:
        page = v.page
        newest = newest_ms(v)
        start = (newest - 100 * MINUTE) // 1000 * 1000
        end = start + 25 * MINUTE + 7000

        def local(ms: int) -> str:
            return from_ms(ms).replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S")

        fill_range(v, local(start), local(end))
        loads(v, page.get_by_test_id("range-apply").click)
        assert v.window == (start, end)
        assert v.dash("live") is False
        expect(page.get_by_test_id("live-toggle")).to_have_attribute("aria-pressed", "false")
        for preset in PRESETS:
            expect(page.get_by_test_id(preset)).to_have_attribute("aria-pressed", "false")
        q = query(page.url)
        assert (q["start"], q["end"]) == ([str(start)], [str(end)])
        for key in KEYS:
            assert v.dash(f"rowsInWindow('{key}')") == api_count(v, key, start, end), key
        assert_charts_show(v, start, end, "America/New_York")

        # The UTC toggle shows the same window in UTC, and the link keeps the choice.
        page.locator("#tz-toggle").click()
        assert v.dash("tz") == "utc"
        expect(page.get_by_test_id("range-start")).to_have_value(from_ms(start).strftime("%Y-%m-%dT%H:%M:%S"))
        assert query(page.url)["tz"] == ["utc"]
        assert v.window == (start, end)
        assert cursor_time(page, "do", 1, "UTC") == pytest.approx(start, abs=2 * (end - start) / 1000 + 1000)
        page.mouse.move(1, 1)
        page.locator("#tz-toggle").click()
        assert v.dash("tz") == "local"
        assert "tz" not in query(page.url)

        # An end before the start is refused with a message, and the window stays.
        fill_range(v, local(end), local(start))
        page.get_by_test_id("range-apply").click()
        expect(page.locator("#range-error")).to_be_visible()
        expect(page.locator("#range-error")).to_contain_text("after start")
        assert v.window == (start, end)


def test_url_restores_the_view(viewer: Viewer, browser: Browser) -> None:
    v, page = viewer, viewer.page
    loads(v, lambda: drag(page, "do", 0.55, 0.8))
    loads(v, page.locator("#pan-left").click)  # zoom, then pan: still one fixed window
    zoomed = v.window
    url = page.url
    assert query(url)["start"] == [str(zoomed[0])]

    path = url.removeprefix(v.server.url)
    with open_dashboard(browser, v.server, path) as shared:
        assert shared.window == zoomed
        assert shared.dash("live") is False
        expect(shared.page.get_by_test_id("live-toggle")).to_have_attribute("aria-pressed", "false")
        for attr in ("range-start", "range-end"):
            expect(shared.page.get_by_test_id(attr)).to_have_value(page.get_by_test_id(attr).input_value())
        assert_charts_show(shared, *zoomed)

    # A live preset is shared as a live view of that span, in the zone chosen.
    loads(v, page.get_by_test_id("preset-6h").click)
    page.locator("#tz-toggle").click()
    assert query(page.url)["tz"] == ["utc"]
    path = page.url.removeprefix(v.server.url)
    with open_dashboard(browser, v.server, path, timezone_id="Asia/Tokyo") as shared:
        assert shared.dash("live") is True
        start, end = shared.window
        assert end - start == 6 * HOUR
        expect(shared.page.get_by_test_id("preset-6h")).to_have_attribute("aria-pressed", "true")
        assert shared.dash("tz") == "utc"
        expect(shared.page.get_by_test_id("range-start")).to_have_value(from_ms(start).strftime("%Y-%m-%dT%H:%M:%S"))
