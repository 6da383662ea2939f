"""What the page says about the data (#7): live only while rows arrive,
historical for an old run, a tab title that warns in the background,
statistics that follow live rows, and a page that keeps what it holds when
the server cannot be reached."""

from __future__ import annotations

import dataclasses
import re
from contextlib import ExitStack
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.checks import api_count
from tests.browser.helpers import (
    KEYS,
    Viewer,
    backfill_db,
    canvas_has_ink,
    drag,
    from_ms,
    open_dashboard,
    plant_server,
    simulating,
    stat_values,
    utc_now,
    wait_live,
    wait_ready,
    wait_stats,
)
from tests.support.pg import TestDb, run
from tests.support.server import free_port, serve

pytestmark = pytest.mark.browser

BASE_TITLE = "Bioreactor · Process dashboard"
UNREACHABLE = re.compile(
    r"^The server cannot be reached( since \d\d:\d\d:\d\d)?; showing the data already loaded\. Retrying…$"
)


def test_header_says_historical_on_last_years_run(browser: Browser, db: TestDb) -> None:
    run_end = datetime(2025, 3, 4, 12, 0, 0)
    run(backfill_db(db, 2.0, run_end))
    with plant_server(db) as server, open_dashboard(browser, server) as v:
        page = v.page
        wait_live(v)  # the link is up...
        status = page.get_by_test_id("connection-status")
        # ...but no rows arrive: not "Live".
        expect(status).to_have_attribute("data-state", "historical")
        expect(status.locator(".conn-text")).to_have_text("Historical")
        expect(status.locator(".conn-time")).to_have_text(
            re.compile(r"^newest row 2025-03-04 1[12]:\d\d \(\d+ (d|y) ago\)$")
        )
        expect(status).to_have_accessible_name("Connection: Historical")
        expect(page.locator("#window-caption")).to_contain_text("historical · no rows arriving")
        expect(page.get_by_test_id("live-toggle")).to_have_text("Latest")
        expect(page).to_have_title(re.compile(r"^⚠ No new data for \d+ (d|y) · Bioreactor$"))


def test_header_says_live_on_a_live_plant(browser: Browser, db: TestDb) -> None:
    run(backfill_db(db, 0.25, utc_now() - timedelta(seconds=1)))
    with plant_server(db) as server, simulating(db), open_dashboard(browser, server) as v:
        page = v.page
        status = page.get_by_test_id("connection-status")
        expect(status).to_have_attribute("data-state", "live", timeout=15_000)
        expect(status.locator(".conn-text")).to_have_text("Live")
        expect(page.get_by_test_id("live-toggle")).to_have_text("Live")
        expect(page.locator("#window-caption")).to_contain_text("live · following the newest data")
        # "newest row" is the time of the newest data row received, not of the last message.
        text = status.locator(".conn-time").inner_text()
        shown = re.fullmatch(r"newest row (\d\d):(\d\d):(\d\d)", text)
        assert shown is not None, text
        newest = from_ms(int(max(v.dash(f"lastT('{k}')") for k in KEYS)))
        seconds = int(shown[1]) * 3600 + int(shown[2]) * 60 + int(shown[3])
        held = newest.hour * 3600 + newest.minute * 60 + newest.second
        assert (held - seconds) % 86_400 <= 5, f"{text}: the newest row held is at {newest:%H:%M:%S}"


def test_tab_title_warns_about_a_stale_or_out_of_limit_series(browser: Browser, db: TestDb) -> None:
    run(backfill_db(db, 0.25, utc_now() - timedelta(seconds=1)))
    # Temperature goes stale after 6 s without a row; the others after a day.
    series = tuple(
        dataclasses.replace(s, stale_after=6.0, high=37.5)
        if s.key == "temperature"
        else dataclasses.replace(s, stale_after=86_400.0)
        for s in db.series
    )
    with plant_server(db, series=series) as server, open_dashboard(browser, server) as v:
        page = v.page
        wait_live(v)
        expect(page).to_have_title("⚠ Temperature stale · Bioreactor", timeout=20_000)
        # A row comes: the warning goes.
        run(db.insert("temperature", [(utc_now(), 37.0)]))
        expect(page).to_have_title(BASE_TITLE, timeout=5_000)
        # A value above the high limit: the title says so, with the value.
        run(db.insert("temperature", [(utc_now(), 38.25)]))
        expect(page).to_have_title(re.compile(r"^⚠ Temperature above high limit \(38\.25\)"), timeout=5_000)


def test_stats_follow_a_live_row_within_a_second(viewer: Viewer, module_plant: TestDb) -> None:
    v, page = viewer, viewer.page
    wait_live(v)
    wait_stats(v)
    run(module_plant.insert("do", [(utc_now(), 99.5)]))
    # The tile shows the row as soon as it comes; the window statistics must not lag it.
    expect(page.get_by_test_id("tile-do-value")).to_have_text("99.50", timeout=10_000)
    page.wait_for_function(
        """() => {
            const vals = [...document.querySelectorAll('[data-testid="stats-do"] .stat-value')].map((s) => s.textContent);
            return vals[1] === '99.50' && vals[3] === '99.50';
        }""",
        timeout=1_000,
    )
    shown = stat_values(page, "do")
    assert (shown["max"], shown["last"]) == ("99.50", "99.50")
    assert int(shown["rows"].replace(",", "")) >= 1


def test_zoom_within_held_data_while_the_server_is_down(browser: Browser, db: TestDb) -> None:
    run(backfill_db(db, 0.5, utc_now() - timedelta(seconds=1)))
    settings = db.settings(poll_interval=0.2)
    port = free_port()
    with ExitStack() as first:
        server = first.enter_context(serve(settings, port))
        with open_dashboard(browser, server, check_console=False) as v:
            page = v.page
            wait_live(v)
            first.close()  # the server goes away

            # Zoom into the middle of what the page already holds.
            drag(page, "do", 0.3, 0.6)
            page.wait_for_function("() => !window.__dashboard.live")
            banner = page.locator("#banner")
            expect(banner).to_have_text(UNREACHABLE, timeout=15_000)
            start, end = v.window
            for key in KEYS:
                assert v.dash(f"chartWindow('{key}')") == {"start": start, "end": end}
                assert v.dash(f"rowsInWindow('{key}')") > 0, key
                expect(page.get_by_test_id(f"chart-{key}").locator(".plot-overlay")).to_be_hidden()
                assert canvas_has_ink(page, key), f"chart {key} was blanked"
            body = page.locator("body").inner_text()
            assert "Failed to fetch" not in body
            assert "TypeError" not in body
            expect(page.get_by_test_id("stats-do")).to_have_text(
                "Statistics unavailable: the server cannot be reached."
            )

            # Back: it recovers by itself, and loads the zoomed window at full resolution.
            with serve(settings, port) as again:
                expect(banner).to_contain_text("Reconnected", timeout=20_000)
                page.wait_for_function(
                    "(keys) => keys.every((k) => !window.__dashboard.downsampled(k))", arg=list(KEYS), timeout=20_000
                )
                wait_ready(page)
                wait_stats(v)
                assert v.window == (start, end)
                reader = Viewer(page=page, console=v.console, server=again)
                for key in KEYS:
                    assert v.dash(f"rowsInWindow('{key}')") == api_count(reader, key, start, end), key
    unexpected = [
        e
        for e in v.console.errors
        if "ERR_CONNECTION_REFUSED" not in e and "WebSocket connection" not in e and "Failed to load resource" not in e
    ]
    assert unexpected == [], unexpected
