"""Charts of a historian that logs by exception (#7): step lines that hold the
value between samples, breaks only at real outages, readable y axes on wide
windows, a glitch that does not flatten the chart, exact µs times.

The module shares one schema and server: six hours of exception-logged rows
ending now, with healthy silences up to 246 s, a 40-minute outage of the
temperature signal and one glitch sample (DO = 0); pH is configured linear.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect

from realtime.config import PgSettings
from tests.browser.helpers import KEYS, Viewer, loads, open_dashboard, plant_server, to_ms, utc_now, wait_ready
from tests.browser.historian import LONGEST_HEALTHY_S, Row, exception_rows
from tests.browser.reading import clock, hover, ink_in_column, x_of, y_axis
from tests.support.pg import PgServer, TestDb, create_schema, run
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

SHAPES = {"temperature": (37.0, 0.04), "ph": (7.1, 0.01), "do": (40.0, 0.6), "pressure": (1.5, 0.005)}


@dataclass
class Historian:
    db: TestDb
    server: LiveServer
    rows: dict[str, list[Row]]
    outage: tuple[datetime, datetime]
    glitch: datetime

    def path(self, start: float, end: float) -> str:
        return f"/?start={int(start)}&end={int(end)}"


@pytest.fixture(scope="module")
def historian(pg_admin: PgSettings, pg_server: PgServer) -> Iterator[Historian]:
    db: TestDb = run(create_schema(pg_admin, pg_server))
    end = utc_now() - timedelta(seconds=1)
    start = end - timedelta(hours=6)
    outage = (end - timedelta(hours=2, minutes=40), end - timedelta(hours=2))
    rows: dict[str, list[Row]] = {}
    for i, (key, (base, step)) in enumerate(SHAPES.items()):
        outages = (outage,) if key == "temperature" else ()
        rows[key] = exception_rows(start, end, base=base, step=step, seed=i + 1, outages=outages)
    # One glitch sample in the middle of the dissolved oxygen signal.
    g = len(rows["do"]) // 2
    rows["do"][g] = (rows["do"][g][0], 0.0)
    for key, r in rows.items():
        run(db.insert(key, r))
    # pH is configured to be drawn linear; the others are steps (the default).
    series = tuple(dataclasses.replace(s, interpolation="linear") if s.key == "ph" else s for s in db.series)
    with plant_server(db, series=series) as server:
        yield Historian(db, server, rows, outage, rows["do"][g][0])


def intervals(rows: list[Row]) -> list[tuple[Row, Row]]:
    return list(itertools.pairwise(rows))


def test_step_line_holds_the_value_between_samples(browser: Browser, historian: Historian) -> None:
    rows = historian.rows["temperature"]
    a, b = next(p for p in intervals(rows[: len(rows) // 3]) if (p[1][0] - p[0][0]).total_seconds() > 120)
    cursor = to_ms(a[0]) + (to_ms(b[0]) - to_ms(a[0])) / 2
    with open_dashboard(browser, historian.server, historian.path(cursor - 300_000, cursor + 300_000)) as v:
        assert v.dash("interpolation('temperature')") == "step"
        tip = hover(v.page, "temperature", cursor)["Temperature"]
        # The value in force, with that sample's own time: not "—" between samples.
        assert tip.value == f"{a[1]:.2f}"
        assert tip.when == f"held since {clock(a[0])}"
        reading = v.dash(f"readingAt('temperature', {cursor})")
        assert reading == {"kind": "value", "t": to_ms(a[0]), "v": a[1], "exact": False}
        # And the chart draws it: the held line crosses the cursor's column.
        v.page.mouse.move(1, 1)
        assert ink_in_column(v.page, "temperature", x_of(v.page, "temperature", cursor), "--series-1") > 0
        # A sample at the cursor instant is shown as such.
        tip = hover(v.page, "temperature", to_ms(b[0]))["Temperature"]
        assert (tip.value, tip.when) == (f"{b[1]:.2f}", f"sample at {clock(b[0])}")
        v.page.mouse.move(1, 1)


def test_lines_break_only_at_a_real_outage(browser: Browser, historian: Historian) -> None:
    rows = historian.rows["temperature"]
    steady = max(intervals(rows), key=lambda p: (p[1][0] - p[0][0]) if p[1][0] < historian.outage[0] else timedelta(0))
    # The data has what shredded the old charts: long healthy silences.
    assert (steady[1][0] - steady[0][0]).total_seconds() > 0.8 * LONGEST_HEALTHY_S
    before = max(r for r in rows if r[0] < historian.outage[0])
    after = min(r for r in rows if r[0] > historian.outage[1])
    with open_dashboard(browser, historian.server, "/?range=6h") as v:
        page = v.page
        # One break: the outage the server found on the raw rows, nothing else.
        assert v.dash("gaps('temperature')") == [[to_ms(before[0]), to_ms(after[0])]]
        inside = (to_ms(before[0]) + to_ms(after[0])) / 2
        held = (to_ms(steady[0][0]) + to_ms(steady[1][0])) / 2
        assert ink_in_column(page, "temperature", x_of(page, "temperature", inside), "--series-1") == 0
        assert ink_in_column(page, "temperature", x_of(page, "temperature", held), "--series-1") > 0
        # The tooltip says it plainly.
        tip = hover(page, "temperature", inside)["Temperature"]
        assert tip.value == "no data"
        assert tip.when == f"outage from {clock(before[0])} to {clock(after[0])}"
        page.mouse.move(1, 1)


@pytest.mark.parametrize("viewport", [(1440, 900), (1280, 640)])
def test_y_axes_stay_readable_on_wide_windows(
    browser: Browser, historian: Historian, viewport: tuple[int, int]
) -> None:
    width, height = viewport
    with open_dashboard(browser, historian.server, viewport={"width": width, "height": height}) as v:
        for preset in ("preset-24h", "preset-7d", "preset-all"):
            loads(v, v.page.get_by_test_id(preset).click)
            for key in KEYS:
                assert_readable(v, key, f"{preset} at {width}x{height}")


def assert_readable(v: Viewer, key: str, where: str) -> None:
    labels: list[str] = y_axis(v.page, key)["labels"]
    assert len(labels) >= 3, f"{key} {where}: y labels {labels}"
    decimals = {len(s.partition(".")[2]) for s in labels}
    assert len(decimals) == 1, f"{key} {where}: y labels {labels}"
    assert decimals.pop() <= 3, f"{key} {where}: y labels {labels}"
    values = [float(s) for s in labels]
    steps = {round(b - a, 9) for a, b in itertools.pairwise(values)}
    assert len(steps) == 1, f"{key} {where}: uneven y labels {labels}"
    assert steps.pop() > 0, f"{key} {where}: y labels {labels}"
    # No more decimals than the step needs ("37.00000" was the old axis).
    if "." in labels[0]:
        assert not all(s.endswith("0") for s in labels), f"{key} {where}: needless decimals {labels}"


def test_y_axes_stay_readable_under_the_outage_banner(browser: Browser, historian: Historian) -> None:
    with open_dashboard(browser, historian.server, "/?range=24h", check_console=False) as v:
        # The server stops answering: the banner pushes the charts down and they shrink.
        v.page.route("**/api/**", lambda route: route.abort())
        v.page.get_by_test_id("refresh").click()
        expect(v.page.locator("#banner")).to_contain_text("The server cannot be reached")
        v.page.wait_for_function(
            """() => { const b = document.querySelector('#banner').getBoundingClientRect();
                       const c = document.querySelector('#charts').getBoundingClientRect(); return c.top > b.bottom; }"""
        )
        for key in KEYS:
            v.page.wait_for_function(f"() => window.__dashboard.yAxis('{key}').labels.length >= 3")
            assert_readable(v, key, "under the banner")
    assert all("ERR_FAILED" in e or "Failed to load resource" in e for e in v.console.errors), v.console.errors


def test_a_glitch_sample_does_not_flatten_the_chart(browser: Browser, historian: Historian) -> None:
    g = to_ms(historian.glitch)
    with open_dashboard(browser, historian.server, historian.path(g - 1_800_000, g + 1_800_000)) as v:
        axis = y_axis(v.page, "do")
        # The bulk of the signal (around 40 %) fills the chart; the glitch to 0 is clipped and marked.
        assert axis["min"] > 30, axis
        assert axis["max"] < 50, axis
        assert axis["clipped"] >= 1, axis
        assert v.dash(f"valuesAt('do', {g})") == [0.0], "the glitch is held, only drawn at the edge"
        assert v.dash(f"readingAt('do', {g})") == {"kind": "value", "t": g, "v": 0.0, "exact": True}


def test_microsecond_times_stay_exact(browser: Browser, historian: Historian) -> None:
    with open_dashboard(browser, historian.server) as v:
        page = v.page
        page.wait_for_function("() => window.__dashboard.connection === 'live'", timeout=10_000)
        t1 = utc_now().replace(microsecond=123_456)
        t2 = t1 + timedelta(microseconds=1)
        run(historian.db.insert("ph", [(t1, 7.25), (t2, 7.26)]))
        ms1 = (t1 - datetime(1970, 1, 1)) / timedelta(microseconds=1) / 1000
        ms2 = (t2 - datetime(1970, 1, 1)) / timedelta(microseconds=1) / 1000
        page.wait_for_function(f"() => window.__dashboard.lastT('ph') === {ms2!r}", timeout=10_000)
        # Two rows a microsecond apart stay two rows, at exactly the times the server sent.
        assert v.dash(f"valuesAt('ph', {ms1!r})") == [7.25]
        assert v.dash(f"valuesAt('ph', {ms2!r})") == [7.26]
        expect(page.get_by_test_id("tile-ph-value")).to_have_text("7.260")
        # A reload reads them back the same.
        page.reload()
        wait_ready(page)
        assert v.dash(f"valuesAt('ph', {ms1!r})") == [7.25]
        assert re.fullmatch(r"\d+\.\d+", str(v.dash("lastT('ph')")))


def test_a_series_configured_linear_is_drawn_linear(browser: Browser, historian: Historian) -> None:
    rows = historian.rows["ph"]
    a, b = next(p for p in intervals(rows[: len(rows) // 3]) if (p[1][0] - p[0][0]).total_seconds() > 120)
    cursor = to_ms(a[0]) + (to_ms(b[0]) - to_ms(a[0])) / 2
    with open_dashboard(browser, historian.server, historian.path(cursor - 300_000, cursor + 300_000)) as v:
        assert v.dash("interpolation('ph')") == "linear"
        assert v.dash("interpolation('temperature')") == "step"
        tip = hover(v.page, "ph", cursor)["pH"]
        # Between samples the tooltip still gives the last sample and its time, without claiming it is held.
        assert (tip.value, tip.when) == (f"{a[1]:.3f}", f"last sample {clock(a[0])}")
        v.page.mouse.move(1, 1)
