"""Accessibility and markup safety: configured names stay text, axe-core finds
nothing in either theme at laptop and phone widths, and the one live region
speaks only when a state changes."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from realtime.series import load_series_file
from realtime.sim.sampling import Sampling
from tests.browser.helpers import (
    KEYS,
    Viewer,
    backfill_db,
    open_dashboard,
    plant_server,
    simulating,
    to_ms,
    utc_now,
    wait_live,
)
from tests.support.pg import TestDb, run
from tests.support.server import LiveServer, free_port, serve

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
HOSTILE = '"><img src=x onerror=window.__pwned=1>'
QUOTED = 'A "quoted" & <b>bold</b>'
# Inside the boot JSON's <script>, "<!--<script>" would swallow the rest of the page.
SCRIPT = "DO <!--<script></script>-->"


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (label-in-name included, off by default)."""
    assert AXE.exists(), f"{AXE} is missing: run scripts/install (npm ci in frontend/)"
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through DevTools: the page's Content-Security-Policy rightly refuses inline scripts.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                resultTypes: ['violations'],
                rules: { 'label-content-name-mismatch': { enabled: true } },
            });
            return r.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
            }));
        }"""
    )
    return result


def assert_clean(page: Page) -> None:
    found = axe_violations(page)
    assert found == [], "\n".join(f"{v['id']} ({v['impact']}): {n}" for v in found for n in v["nodes"])


def settled(v: Viewer) -> None:
    """Charts drawn, statistics shown, no tooltip: the page as it is read."""
    page = v.page
    wait_live(v)
    page.wait_for_function("() => !document.querySelector('[data-testid^=\"stats-\"].is-pending')")
    for key in KEYS:
        expect(page.get_by_test_id(f"stats-{key}")).not_to_be_empty()
    page.mouse.move(0, 0)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_axe_finds_no_violations(
    browser: Browser, module_server: LiveServer, theme: str, viewport: dict[str, int]
) -> None:
    with open_dashboard(browser, module_server, color_scheme=theme, viewport=viewport) as v:
        expect(v.page.locator("html")).to_have_attribute("data-theme", theme)
        settled(v)
        assert_clean(v.page)
        # The open menus too: the CSV series list and a y-range form.
        v.page.locator("#csv-menu summary").click()
        expect(v.page.locator("#csv-series input").first).to_be_visible()
        assert_clean(v.page)
        v.page.keyboard.press("Escape")
        v.page.get_by_test_id("yrange-ph").click()
        expect(v.page.get_by_test_id("yrange-ph-min")).to_be_focused()
        assert_clean(v.page)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_violations_on_an_old_run(browser: Browser, db: TestDb, theme: str) -> None:
    """The historical view: "Historical" pill, "Latest" button, a tab title warning, demo badge."""
    run(backfill_db(db, 1.0, datetime(2025, 3, 4, 12, 0, 0)))
    with (
        plant_server(db, demo=True) as server,
        open_dashboard(browser, server, color_scheme=theme, viewport=LAPTOP) as v,
    ):
        expect(v.page.get_by_test_id("connection-status")).to_have_attribute("data-state", "historical")
        expect(v.page.locator(".badge-demo")).to_be_visible()
        v.page.wait_for_function("() => !document.querySelector('[data-testid^=\"stats-\"].is-pending')")
        assert_clean(v.page)


def test_configured_names_are_text_not_markup(browser: Browser, db: TestDb, tmp_path: Path) -> None:
    """Names and units from SERIES_FILE reach the page as text: nothing is injected, nothing runs."""
    run(backfill_db(db, 0.5, utc_now() - timedelta(seconds=1)))
    names = {"ph": (HOSTILE, "<i>u</i>"), "temperature": (QUOTED, "°C"), "do": (SCRIPT, "%")}
    entries = [
        {
            "key": s.key,
            "table": s.table,
            "schema": s.schema,
            "name": names.get(s.key, (s.name, s.unit))[0],
            "unit": names.get(s.key, (s.name, s.unit))[1],
            **({"high": 100.0} if s.key == "ph" else {}),
        }
        for s in db.series
    ]
    path = tmp_path / "series.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    series = load_series_file(path)
    with plant_server(db, series=series) as server, open_dashboard(browser, server) as v:
        page = v.page
        for key, (name, unit) in names.items():
            expect(page.get_by_test_id(f"tile-{key}").locator(".tile-name")).to_have_text(name)
            expect(page.get_by_test_id(f"chart-{key}").locator(".panel-name")).to_have_text(name)
            expect(page.get_by_test_id(f"chart-{key}").locator(".panel-unit")).to_have_text(unit)
            expect(page.get_by_test_id(f"tile-{key}")).to_have_accessible_name(re.compile("^" + re.escape(f"{name}: ")))
            expect(page.get_by_test_id(f"stats-{key}")).to_have_accessible_name(
                f"{name}: statistics of the visible window"
            )
            expect(page.get_by_test_id(f"yrange-{key}")).to_have_accessible_name(
                f"Y auto: y range of {name} is automatic; change"
            )
            expect(page.locator("#csv-series label", has_text=name)).to_have_count(1)
        # The tooltip names every series as text.
        box = page.locator('[data-testid="chart-do"] .u-over').bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        tip = page.locator('[data-testid="chart-do"] .tooltip')
        expect(tip.locator(".tt-name", has_text=HOSTILE)).to_have_count(1)
        expect(tip.locator(".tt-name", has_text=QUOTED)).to_have_count(1)

        # An out-of-limit row: the tab title and the live region name the series as text too.
        t = utc_now()
        run(db.insert("ph", [(t, 150.0)]))
        page.wait_for_function(f"() => window.__dashboard.lastT('ph') >= {to_ms(t)}", timeout=10_000)
        expect(page.get_by_test_id("announcer")).to_contain_text(f"{HOSTILE}: Above high limit")
        expect(page).to_have_title(f"⚠ {HOSTILE} above high limit (150.0) · Bioreactor")

        assert page.locator("img, b, i").count() == 0, "configured text was parsed as markup"
        assert page.evaluate("() => window.__pwned") is None


# ---- the live region ---------------------------------------------------------------

# Short enough for dissolved oxygen (sampled every second) to turn stale soon after the
# simulator stops; long for the others, so only one state changes.
STALE_AFTER = {"temperature": 60.0, "ph": 60.0, "do": 8.0, "pressure": 60.0}
REGULAR: dict[str, Sampling] = {"temperature": "regular"}

WATCH = """() => {
    window.__said = [];
    const region = document.querySelector('[data-testid="announcer"]');
    new MutationObserver((records) => {
        for (const _ of records) window.__said.push(region.textContent);
    }).observe(region, { childList: true, characterData: true, subtree: true });
}"""


@pytest.fixture
def flowing(browser: Browser, db: TestDb) -> Iterator[tuple[Viewer, TestDb]]:
    run(backfill_db(db, 0.25, utc_now() - timedelta(seconds=1)))
    series = tuple(dataclasses.replace(s, stale_after=STALE_AFTER[s.key]) for s in db.series)
    db = dataclasses.replace(db, series=series)
    with plant_server(db, series=series) as server, open_dashboard(browser, server) as v:
        yield v, db


def test_live_region_speaks_only_when_a_state_changes(flowing: tuple[Viewer, TestDb]) -> None:
    v, db = flowing
    page = v.page
    # The only live regions: the announcer, and the alerts for the banner and form errors.
    regions = page.evaluate(
        """() => [...document.querySelectorAll('[aria-live], [role=status], [role=log]')].map((e) => e.dataset.testid || e.id)"""
    )
    assert regions == ["announcer"]
    with simulating(db, REGULAR) as sim:
        page.wait_for_function("() => window.__dashboard.header === 'live'", timeout=15_000)
        # Every tile fresh (dissolved oxygen may have turned stale before the simulator started).
        page.wait_for_function(
            "(keys) => keys.every((k) => document.querySelector(`[data-testid=tile-${k}] .tile-flag`).hidden)",
            arg=list(KEYS),
        )
        page.evaluate(WATCH)
        since = to_ms(utc_now())
        # Several seconds of rows on every series: tiles, stats and the pill update on each...
        page.wait_for_function(
            "([keys, since]) => keys.every((k) => window.__dashboard.lastT(k) > since + 5000)",
            arg=[list(KEYS), since],
            timeout=20_000,
        )
        assert all(sim.written[k] > 0 for k in KEYS)
        # ...and the live region said nothing: no state changed.
        assert page.evaluate("() => window.__said") == []

    # Dissolved oxygen stops with the simulator: one message, once.
    expect(page.get_by_test_id("tile-do").locator(".tile-flag")).to_have_text("Stale", timeout=15_000)
    page.wait_for_function("() => window.__said.length >= 1")
    assert page.evaluate("() => window.__said") == ["Dissolved oxygen: Stale"]
    # The tile re-renders every second ("No data for 4 s", "5 s", …); the message is not repeated.
    age = page.get_by_test_id("tile-do-age")
    for _ in range(2):
        expect(age).not_to_have_text(age.inner_text())
    assert page.evaluate("() => window.__said") == ["Dissolved oxygen: Stale"]
    assert_clean(page)  # the stale tile's colours too

    with simulating(db, REGULAR):
        page.wait_for_function("() => window.__said.length >= 2", timeout=10_000)
    assert page.evaluate("() => window.__said") == ["Dissolved oxygen: Stale", "Dissolved oxygen: back to normal"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_live_region_says_when_the_connection_drops_and_returns(browser: Browser, db: TestDb, theme: str) -> None:
    run(backfill_db(db, 0.25, utc_now() - timedelta(seconds=1)))
    settings = db.settings(poll_interval=0.2)
    port = free_port()
    with simulating(db, REGULAR), ExitStack() as first:
        server = first.enter_context(serve(settings, port))
        with open_dashboard(browser, server, check_console=False, color_scheme=theme) as v:
            page = v.page
            page.wait_for_function("() => window.__dashboard.header === 'live'", timeout=15_000)
            # Said on the next row or tick after the link came up.
            expect(page.get_by_test_id("announcer")).to_contain_text("Connection: Live")
            page.evaluate(WATCH)
            first.close()  # the server goes away
            page.wait_for_function("() => window.__said.includes('Connection: Reconnecting…')", timeout=10_000)
            banner = page.locator("#banner")
            expect(banner).to_have_class(re.compile(r"\bis-error\b"), timeout=10_000)
            assert_clean(page)  # the error banner's colours
            with serve(settings, port):
                page.wait_for_function("() => window.__said.includes('Connection: Live')", timeout=20_000)
                expect(banner).to_have_class(re.compile(r"\bis-ok\b"))
                assert_clean(page)  # and the "Reconnected" one's
            said: list[str] = page.evaluate("() => window.__said")
    # Said once each, in order (series may turn stale meanwhile: a real change too, said once).
    about_link = [s for s in said if s.startswith("Connection: ")]
    assert about_link == ["Connection: Reconnecting…", "Connection: Live"], said
    assert all(a != b for a, b in itertools.pairwise(said)), said
