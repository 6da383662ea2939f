"""The stale warning: a tile turns stale when its series stops, and fresh when it resumes."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from realtime.sim.sampling import Sampling
from tests.browser.helpers import KEYS, Viewer, backfill_db, open_dashboard, plant_server, simulating, to_ms, utc_now
from tests.support.pg import TestDb, run

pytestmark = pytest.mark.browser

# Seconds without a sample before each tile warns: a few of the simulator's
# median intervals (do 1 s, temperature 2 s, pH 3 s, pressure 3.8 s).
STALE_AFTER = {"temperature": 4.0, "ph": 5.0, "do": 2.0, "pressure": 5.0}
# Thresholds this short need every series logged regularly: by exception (its
# default) temperature writes nothing for minutes while it holds steady.
REGULAR: dict[str, Sampling] = {"temperature": "regular"}

re_fresh = re.compile(r"^(just now|\d+ s ago)$")
re_stale = re.compile(r"\bis-stale\b")
re_no_data = re.compile(r"^No data for \d+ s$")
re_stale_label = re.compile(r", Stale$")


def tiles_fresh_since(v: Viewer, since: int) -> None:
    """Waits until every tile shows a row newer than ``since``, with its age and no warning.

    Checked at one instant in the page: with thresholds this short a series
    may briefly go stale between two samples while the simulator runs.
    """
    v.page.wait_for_function(
        """([keys, since]) => keys.every((k) => {
            const tile = document.querySelector(`[data-testid="tile-${k}"]`);
            const age = document.querySelector(`[data-testid="tile-${k}-age"]`).textContent;
            return window.__dashboard.lastT(k) > since && !tile.classList.contains('is-stale')
                && tile.querySelector('.tile-flag').hidden && /^(just now|\\d+ s ago)$/.test(age);
        })""",
        arg=[list(KEYS), since],
        timeout=15_000,
    )


def test_stale_warning_appears_when_the_simulator_stops(browser: Browser, db: TestDb) -> None:
    end = utc_now() - timedelta(seconds=1)
    run(backfill_db(db, 0.25, end))
    series = tuple(dataclasses.replace(s, stale_after=STALE_AFTER[s.key]) for s in db.series)
    db = dataclasses.replace(db, series=series)

    with plant_server(db, series=series) as server, open_dashboard(browser, server) as v:
        page = v.page
        with simulating(db, REGULAR) as sim:
            since = to_ms(utc_now())
            tiles_fresh_since(v, since)
        stopped = to_ms(utc_now())
        assert all(sim.written[k] > 0 for k in KEYS), sim.written

        # No sample for longer than each series' threshold: every tile warns.
        for key in KEYS:
            tile = page.get_by_test_id(f"tile-{key}")
            expect(tile).to_have_class(re_stale, timeout=(STALE_AFTER[key] + 5) * 1000)
            expect(tile.locator(".tile-flag")).to_have_text("Stale")
            expect(tile.locator(".tile-flag")).to_be_visible()
            expect(page.get_by_test_id(f"tile-{key}-age")).to_have_text(re_no_data)
            expect(tile).to_have_attribute("aria-label", re_stale_label)
            assert v.dash(f"lastT('{key}')") <= stopped, f"{key} received a row after the simulator stopped"

        # Data again: the warning clears by itself (dissolved oxygen samples every second).
        with simulating(db, REGULAR):
            page.wait_for_function(f"() => window.__dashboard.lastT('do') > {stopped}", timeout=10_000)
            expect(page.get_by_test_id("tile-do")).not_to_have_class(re_stale)
            expect(page.get_by_test_id("tile-do").locator(".tile-flag")).to_be_hidden()
            expect(page.get_by_test_id("tile-do-age")).to_have_text(re_fresh)
