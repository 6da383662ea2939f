"""Every control of the dashboard in a real browser, against one shared server.

The module shares one plant (three hours of history ending now) and one
server; every test opens a fresh tab, so each starts from the default view
(live, last hour). Tests that write rows write them at "now", which only
moves the newest row forward.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.browser.conftest import wait_ready
from tests.browser.helpers import (
    HOUR,
    KEYS,
    MINUTE,
    Viewer,
    canvas_has_ink,
    canvas_pixels,
    cursor_time,
    decimals_for,
    drag,
    from_ms,
    iso_to_ms,
    loads,
    open_dashboard,
    plot_box,
    stat_values,
    to_ms,
    utc_now,
    wait_live,
    wait_stats,
)
from tests.live import LiveServer
from tests.pg import TestDb, connect, run

pytestmark = pytest.mark.browser

PRESETS = ("preset-15m", "preset-1h", "preset-6h", "preset-24h", "preset-7d", "preset-all")


@pytest.fixture
def viewer(browser: Browser, module_server: LiveServer) -> Iterator[Viewer]:
    with open_dashboard(browser, module_server) as v:
        yield v


# ---- helpers -------------------------------------------------------------------


def api(v: Viewer, path: str) -> object:
    res = v.page.request.get(v.server.url + path)
    assert res.ok, f"GET {path}: {res.status} {res.text()}"
    return res.json()


def api_stats(v: Viewer, key: str, start: int, end: int) -> dict[str, object]:
    body = api(v, f"/api/series/{key}/stats?start={start}&end={end}")
    assert isinstance(body, dict)
    return body


def api_count(v: Viewer, key: str, start: int, end: int) -> int:
    return int(str(api_stats(v, key, start, end)["count"]))


def newest_ms(v: Viewer) -> int:
    """The newest row's time over all series, as the server knows it."""
    series = api(v, "/api/series")
    assert isinstance(series, list)
    return max(iso_to_ms(s["last"]) for s in series)


def db_counts(db: TestDb) -> dict[str, int]:
    async def go() -> dict[str, int]:
        conn = await connect(db.admin)
        try:
            return {k: int(await conn.fetchval(f"SELECT count(*) FROM {db.qualified(k)}")) for k in KEYS}
        finally:
            await conn.close()

    return run(go())


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def insert_now(v: Viewer, db: TestDb, key: str, value: float) -> int:
    """Writes one row at the current time and waits until the page holds it; returns its time (ms)."""
    t = utc_now()
    run(db.insert(key, [(t, value)]))
    t_ms = to_ms(t)
    v.page.wait_for_function(f"() => window.__dashboard.lastT('{key}') >= {t_ms}", timeout=10_000)
    return t_ms


def assert_charts_show(v: Viewer, start: int, end: int, zone: str = "UTC") -> None:
    """Each chart's own x scale spans [start, end]: read through the tooltip at both plot edges."""
    for key in KEYS:
        drawn = v.dash(f"chartWindow('{key}')")
        assert drawn == {"start": start, "end": end}, f"chart {key} draws {drawn}, the window is {start}..{end}"
    for key in KEYS:
        width = plot_box(v.page, key)["width"]
        px = (end - start) / width
        tol = 2 * px + 1000  # two pixels, plus the tooltip's whole seconds
        left = cursor_time(v.page, key, 1, zone)
        right = cursor_time(v.page, key, -1, zone)
        assert abs(left - (start + px)) <= tol, f"chart {key} starts at {from_ms(left)}, window at {from_ms(start)}"
        assert abs(right - (end - px)) <= tol, f"chart {key} ends at {from_ms(right)}, window at {from_ms(end)}"
    v.page.mouse.move(1, 1)


def fill_range(v: Viewer, start: str, end: str) -> None:
    v.page.get_by_test_id("range-start").fill(start)
    v.page.get_by_test_id("range-end").fill(end)


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
        assert re.fullmatch(r"-?\d+\.\d+|—", value), value
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


def test_charts_show_loading_while_history_is_fetched(browser: Browser, module_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC")
    try:
        held: list[Route] = []

        def hold(route: Route) -> None:
            held.append(route)

        context.route("**/api/series/*/data?*", hold)
        page = context.new_page()
        page.goto(module_server.url + "/")
        page.wait_for_function("() => window.__dashboard && window.__dashboard.loading")
        for key in KEYS:
            overlay = page.get_by_test_id(f"chart-{key}").locator(".plot-overlay")
            expect(overlay).to_be_visible()
            expect(overlay).to_have_text("Loading history…")
        assert page.evaluate("() => window.__dashboard.ready") is False
        for _ in range(100):  # the route handler runs while Playwright is called: poll it
            if len(held) == len(KEYS):
                break
            page.wait_for_timeout(50)
        assert len(held) == len(KEYS)
        for route in held:
            route.continue_()
        wait_ready(page)
        for key in KEYS:
            expect(page.get_by_test_id(f"chart-{key}").locator(".plot-overlay")).to_be_hidden()
            assert canvas_has_ink(page, key)
    finally:
        context.close()


# ---- refresh and connection ------------------------------------------------------


def test_refresh_reloads_without_page_navigation(viewer: Viewer) -> None:
    v, page = viewer, viewer.page
    loads(v, lambda: drag(page, "pressure", 0.1, 0.9))
    window = v.window
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.evaluate("() => { window.__sameDocument = true; }")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    loads(v, page.get_by_test_id("refresh").click)

    data = [u for u in requests if "/data?" in u]
    assert {u.split("/api/series/")[1].split("/")[0] for u in data} == set(KEYS), "every chart is reloaded"
    assert all(f"start={window[0]}&end={window[1]}" in u for u in data), "the same window is reloaded"
    assert v.window == window
    assert navigations == []
    assert page.evaluate("() => window.__sameDocument") is True
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    for key in KEYS:
        assert canvas_has_ink(page, key)


def test_connection_status_shows_live(viewer: Viewer, module_plant: TestDb) -> None:
    v, page = viewer, viewer.page
    status = page.get_by_test_id("connection-status")
    expect(status).to_have_attribute("data-state", "live")
    expect(status.locator(".conn-text")).to_have_text("Live")
    expect(status).to_have_accessible_name("Connection: Live")
    insert_now(v, module_plant, "pressure", 14.7)
    # The time of the last update is shown next to the state.
    expect(status.locator(".conn-time")).to_have_text(re.compile(r"^updated \d\d:\d\d:\d\d$"))
    expect(status).to_be_visible()


# ---- readouts ----------------------------------------------------------------------


def test_window_stats_match_the_api(viewer: Viewer, module_plant: TestDb) -> None:
    v, page = viewer, viewer.page
    loads(v, lambda: drag(page, "do", 0.25, 0.75))
    wait_stats(v)
    start, end = v.window

    async def db_stats() -> dict[str, tuple[int, float, float]]:
        conn = await connect(module_plant.admin)
        try:
            out = {}
            for k in KEYS:
                row = await conn.fetchrow(
                    f"SELECT count(value), min(value), max(value) FROM {module_plant.qualified(k)}"
                    " WHERE time BETWEEN $1 AND $2",
                    from_ms(start),
                    from_ms(end),
                )
                assert row is not None
                out[k] = (int(row[0]), float(row[1]), float(row[2]))
            return out
        finally:
            await conn.close()

    in_db = run(db_stats())
    for key in KEYS:
        shown = stat_values(page, key)
        expected = api_stats(v, key, start, end)
        assert set(shown) == {"min", "max", "mean", "last", "rows"}, shown
        assert int(shown["rows"].replace(",", "")) == expected["count"] == in_db[key][0], key
        assert expected["min"] == in_db[key][1], key
        assert expected["max"] == in_db[key][2], key
        for stat in ("min", "max", "mean", "last"):
            value = float(str(expected[stat]))
            # Shown rounded to the readout's precision: within half a unit of its last digit.
            half = 0.5 * 10 ** -decimals_for(value) + 1e-9
            assert abs(float(shown[stat]) - value) <= half, f"{key} {stat}: shows {shown[stat]}, API says {value}"


# ---- look and feel -----------------------------------------------------------------


def test_theme_toggles(viewer: Viewer, browser: Browser) -> None:
    v, page = viewer, viewer.page
    html = page.locator("html")
    toggle = page.get_by_test_id("theme-toggle")
    expect(html).to_have_attribute("data-theme", "light")
    expect(toggle).to_have_accessible_name("Switch to dark theme")
    light_bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")

    toggle.click()
    expect(html).to_have_attribute("data-theme", "dark")
    assert v.dash("theme") == "dark"
    expect(toggle).to_have_accessible_name("Switch to light theme")
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") != light_bg
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid^=\"chart-\"] canvas')].every((c) => c.width > 0)"
    )
    for key in KEYS:
        assert canvas_has_ink(page, key), f"chart {key} is blank after the theme change"

    toggle.click()
    expect(html).to_have_attribute("data-theme", "light")
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == light_bg

    # Without a choice, the page follows the system's dark scheme.
    with open_dashboard(browser, v.server, color_scheme="dark") as dark:
        expect(dark.page.locator("html")).to_have_attribute("data-theme", "dark")


def test_layout_holds_from_laptop_to_control_room(viewer: Viewer) -> None:
    page = viewer.page
    for width, height in ((1280, 720), (1920, 1080), (2560, 1440)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_function(
            """([w]) => [...document.querySelectorAll('[data-testid^="chart-"] canvas')].every(
                (c) => c.getBoundingClientRect().width > w / 2)""",
            arg=[width],
        )
        where = f"at {width}x{height}"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, f"sideways scroll {where}"
        for testid in (*PRESETS, "range-start", "range-end", "range-apply", "live-toggle", "refresh", "download-csv"):
            expect(page.get_by_test_id(testid), where).to_be_in_viewport()
        for key in KEYS:
            expect(page.get_by_test_id(f"tile-{key}"), where).to_be_in_viewport()
            assert canvas_has_ink(page, key), f"chart {key} is blank {where}"
        # All four charts are on the first screen, down to a laptop's.
        expect(page.get_by_test_id("chart-pressure").locator("canvas").first, where).to_be_in_viewport()


def test_keyboard_reaches_controls_with_accessible_names(viewer: Viewer) -> None:
    v, page = viewer, viewer.page
    wanted = {*PRESETS, "range-start", "range-end", "range-apply", "live-toggle", "refresh", "download-csv"}
    wanted |= {"theme-toggle", *(f"chart-{k}" for k in KEYS)}
    reached: list[str] = []
    page.locator("body").focus()
    for _ in range(120):
        page.keyboard.press("Tab")
        testid = page.evaluate("() => document.activeElement?.dataset?.testid ?? ''")
        if testid and testid not in reached:
            reached.append(testid)
        if wanted <= set(reached):
            break
    assert wanted <= set(reached), f"not reachable with Tab: {sorted(wanted - set(reached))}"
    assert reached.index("preset-15m") < reached.index("preset-all") < reached.index("live-toggle")

    names = {
        "preset-15m": "Last 15 minutes",
        "preset-1h": "Last hour",
        "preset-6h": "Last 6 hours",
        "preset-24h": "Last 24 hours",
        "preset-7d": "Last 7 days",
        "preset-all": "All data",
        "range-start": "Start time",
        "range-end": "End time",
        "range-apply": "Apply",
        "refresh": "Refresh the current window",
    }
    for testid, name in names.items():
        expect(page.get_by_test_id(testid)).to_have_accessible_name(name)
    for testid in ("live-toggle", "download-csv", "theme-toggle", "connection-status"):
        expect(page.get_by_test_id(testid)).to_have_accessible_name(re.compile(r"\w"))
    expect(page.get_by_role("button", name="Download CSV")).to_have_count(1)

    # Keys act on the focused control: Enter on a preset, + and L on a chart.
    page.get_by_test_id("preset-6h").focus()
    loads(v, lambda: page.keyboard.press("Enter"))
    start, end = v.window
    assert end - start == 6 * HOUR
    page.get_by_test_id("chart-ph").focus()
    loads(v, lambda: page.keyboard.press("+"))
    assert v.dash("live") is False
    zoomed = v.window
    assert zoomed[1] - zoomed[0] == pytest.approx(3 * HOUR, abs=2)
    loads(v, lambda: page.keyboard.press("l"))
    assert v.dash("live") is True


def test_every_control_without_console_errors(browser: Browser, module_server: LiveServer) -> None:
    with open_dashboard(browser, module_server) as v:
        page = v.page
        wait_live(v)
        for preset in PRESETS:
            loads(v, page.get_by_test_id(preset).click)
        loads(v, page.get_by_test_id("preset-1h").click)
        start, end = v.window
        fill_range(
            v, from_ms(start).strftime("%Y-%m-%dT%H:%M:%S"), from_ms(end - 20 * MINUTE).strftime("%Y-%m-%dT%H:%M:%S")
        )
        loads(v, page.get_by_test_id("range-apply").click)
        for control in ("#zoom-out", "#pan-left", "#pan-right", "#back"):
            loads(v, page.locator(control).click)
        loads(v, lambda: drag(page, "temperature", 0.2, 0.7))
        # Shift+drag pans, double-click zooms out.
        loads(v, lambda: drag(page, "do", 0.6, 0.4, shift=True))
        box = plot_box(page, "do")
        y = box["y"] + box["height"] / 2
        loads(v, lambda: page.mouse.dblclick(box["x"] + box["width"] / 2, y))
        cursor_time(page, "pressure", 50)  # the tooltip
        page.mouse.move(1, 1)
        loads(v, page.get_by_test_id("live-toggle").click)  # pause
        loads(v, page.get_by_test_id("live-toggle").click)  # resume
        loads(v, page.get_by_test_id("refresh").click)
        for _ in range(2):
            page.locator("#tz-toggle").click()
            page.get_by_test_id("theme-toggle").click()
        page.locator("#csv-menu summary").click()
        page.locator("#csv-series input[value=ph]").uncheck()
        page.locator("#csv-series input[value=ph]").check()
        page.keyboard.press("Escape")
        with page.expect_download() as download:
            page.get_by_test_id("download-csv").click()
        assert download.value.suggested_filename.startswith("bioreactor_")
        page.get_by_test_id("tile-do").click()
        page.get_by_test_id("chart-ph").focus()
        for key in ("ArrowLeft", "ArrowRight", "=", "-"):
            loads(v, partial(page.keyboard.press, key))
        wait_ready(page)
        assert v.console.errors == [], f"JavaScript errors in the console: {v.console.errors}"
