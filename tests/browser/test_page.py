"""The rest of the page in a real browser: loading, refresh, status, statistics, theme, layout, keyboard.

The module shares one plant (three hours of history ending now) and one
server; every test opens a fresh tab, so each starts from the default view
(live, last hour). Tests that write rows write them at "now", which only
moves the newest row forward.
"""

from __future__ import annotations

import re
from functools import partial
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.browser.checks import (
    PRESETS,
    api_stats,
    fill_range,
    insert_now,
)
from tests.browser.helpers import (
    HOUR,
    KEYS,
    MINUTE,
    Viewer,
    canvas_has_ink,
    cursor_time,
    decimals_for,
    drag,
    from_ms,
    loads,
    open_dashboard,
    plot_box,
    stat_values,
    wait_live,
    wait_ready,
    wait_stats,
)
from tests.support.pg import TestDb, connect, run
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser


def test_charts_show_loading_while_history_is_fetched(browser: Browser, module_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC")
    try:
        held: list[Route] = []

        def hold(route: Route) -> None:
            held.append(route)

        context.route("**/data?*", hold)
        page = context.new_page()
        page.goto(module_server.url + "/")
        page.wait_for_function("() => window.__dashboard && window.__dashboard.loading")
        for key in KEYS:
            overlay = page.get_by_test_id(f"chart-{key}").locator(".plot-overlay")
            expect(overlay).to_be_visible()
            expect(overlay).to_have_text("Loading history…")
        assert page.evaluate("() => window.__dashboard.ready") is False
        for _ in range(100):  # the route handler runs while Playwright is called: poll it
            if held:
                break
            page.wait_for_timeout(50)
        # Every chart's window in one request, the page's series list in the page itself.
        assert [r.request.url.split("?")[0] for r in held] == [module_server.url + "/api/data"]
        assert parse_qs(urlsplit(held[0].request.url).query)["series"] == [",".join(KEYS)]
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
    assert len(data) == 1, "one request for every chart"
    assert parse_qs(urlsplit(data[0]).query)["series"] == [",".join(KEYS)], "every chart is reloaded"
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
    wait_live(v)
    # "Live" means rows are arriving: a fresh row makes it so whatever the module's age.
    t = insert_now(v, module_plant, "pressure", 14.7)
    expect(status).to_have_attribute("data-state", "live")
    expect(status.locator(".conn-text")).to_have_text("Live")
    expect(status).to_have_accessible_name("Connection: Live")
    # Beside it, the time of the newest data row received (not of any message).
    expect(status.locator(".conn-time")).to_have_text(f"newest row {from_ms(t).strftime('%H:%M:%S')}")
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


def test_an_idle_dashboard_does_next_to_no_layout_work(viewer: Viewer) -> None:
    """A control-room screen stays open for weeks: with no new rows it must not lay the page out every frame.

    An invisible progress bar animating `left` once cost 60 layouts a second, for as long as the page was open.
    What may remain: the clock's once-a-second text ("updated 3 s ago").
    """
    wait_live(viewer)
    wait_stats(viewer)
    page = viewer.page
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def layouts() -> float:
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return float(metrics["LayoutCount"])

    before = layouts()
    seconds = 3.0
    page.wait_for_timeout(seconds * 1000)  # the interval measured: no condition can stand for it
    assert layouts() - before <= 3 * seconds


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
        "preset-15m": "15m — last 15 minutes",
        "preset-1h": "1h — last hour",
        "preset-6h": "6h — last 6 hours",
        "preset-24h": "24h — last 24 hours",
        "preset-7d": "7d — last 7 days",
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
        for key in ("ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "Escape"):  # the keyboard cursor
            page.keyboard.press(key)
        for key in ("Shift+ArrowLeft", "Shift+ArrowRight", "=", "-"):
            loads(v, partial(page.keyboard.press, key))
        wait_ready(page)
        assert v.console.errors == [], f"JavaScript errors in the console: {v.console.errors}"


def test_charts_load_one_by_one_when_the_shared_request_is_refused(browser: Browser, module_server: LiveServer) -> None:
    # A refusal of /api/data may concern one series only (503: not loaded while the database
    # is down): each series then asks alone, so each gets its own answer.
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC")
    try:
        refused: list[str] = []

        def refuse(route: Route) -> None:
            refused.append(route.request.url)
            route.fulfill(status=503, json={"error": "the database is unavailable"})

        context.route("**/api/data?*", refuse)
        page = context.new_page()
        alone: list[str] = []
        page.on("request", lambda r: alone.append(r.url) if "/api/series/" in r.url and "/data?" in r.url else None)
        page.goto(module_server.url + "/")
        wait_ready(page)
        assert len(refused) == 1
        assert sorted(u.split("/api/series/")[1].split("/")[0] for u in alone) == sorted(KEYS)
        for key in KEYS:
            assert canvas_has_ink(page, key)
            assert page.evaluate(f"() => window.__dashboard.state('{key}')") == "ok"
    finally:
        context.close()
