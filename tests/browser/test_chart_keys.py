"""Reading a chart from the keyboard: the arrows walk its samples and each stop
says the sample's time and value, checked against the database."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import EPOCH, Viewer, decimals_for, from_ms, loads
from tests.support.pg import TestDb, connect, run

pytestmark = pytest.mark.browser

SAID = re.compile(r"^Dissolved oxygen, (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{3})?): (-?\d+\.\d+) %$")


def rows_in(db: TestDb, key: str, start: int, end: int) -> list[tuple[float, float]]:
    """(epoch ms, value) of every row of [start, end], oldest first, straight from PostgreSQL."""

    async def go() -> list[tuple[float, float]]:
        conn = await connect(db.admin)
        try:
            records = await conn.fetch(
                f"SELECT time, value FROM {db.qualified(key)} WHERE time >= $1 AND time <= $2 ORDER BY time",
                from_ms(start),
                from_ms(end),
            )
            return [((r["time"] - EPOCH) / timedelta(milliseconds=1), r["value"]) for r in records]
        finally:
            await conn.close()

    return run(go())


def stop(v: Viewer, key: str) -> tuple[float, str]:
    """The sample the keyboard cursor is on (its time as the chart holds it) and what the live region said."""
    t = v.page.get_by_test_id(f"chart-{key}").get_attribute("data-cursor-t")
    assert t is not None, "no keyboard cursor"
    return float(t), v.page.get_by_test_id("announcer").inner_text().strip()


def check_reading(said: str, t: float, rows: list[tuple[float, float]]) -> None:
    """The message names the database row at t: its time (to the second) and value."""
    match = SAID.fullmatch(said)
    assert match, said
    row = next((r for r in rows if abs(r[0] - t) < 0.01), None)
    assert row is not None, f"no database row at {t}"
    # The sample's own time, to the millisecond.
    shown = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S.%f" if "." in match[1] else "%Y-%m-%d %H:%M:%S")
    assert shown == from_ms(int(t)), said
    assert match[2] == f"{row[1]:.{decimals_for(row[1])}f}"


def test_arrow_keys_read_values_and_shift_arrows_pan(viewer: Viewer, module_plant: TestDb) -> None:
    v, page = viewer, viewer.page
    loads(v, page.get_by_test_id("preset-15m").click)
    assert v.dash("downsampled('do')") is False, "15 minutes hold every raw row"
    start, end = v.window
    rows = rows_in(module_plant, "do", start, end)
    assert len(rows) > 20
    chart = page.get_by_test_id("chart-do")
    tip = chart.locator(".tooltip")
    chart.focus()

    # The first arrow lands on the newest sample in view.
    page.keyboard.press("ArrowLeft")
    expect(tip).to_be_visible()
    t, said = stop(v, "do")
    assert t == pytest.approx(rows[-1][0], abs=0.01)
    check_reading(said, t, rows)
    assert said.split(", ", 1)[1].startswith(tip.locator(".tt-time").inner_text().strip())

    # Each arrow moves one sample; each stop is said once.
    for back in range(1, 4):
        page.keyboard.press("ArrowLeft")
        t, said = stop(v, "do")
        assert t == pytest.approx(rows[-1 - back][0], abs=0.01)
        check_reading(said, t, rows)
    page.keyboard.press("ArrowRight")
    t, said = stop(v, "do")
    assert t == pytest.approx(rows[-3][0], abs=0.01)
    check_reading(said, t, rows)

    # Home and End: the oldest and the newest sample in view.
    page.keyboard.press("Home")
    t, said = stop(v, "do")
    assert t == pytest.approx(rows[0][0], abs=0.01)
    check_reading(said, t, rows)
    page.keyboard.press("End")
    assert stop(v, "do")[0] == pytest.approx(rows[-1][0], abs=0.01)

    # The window did not move while reading; Escape hides the cursor.
    assert v.window == (start, end)
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()
    expect(chart).not_to_have_attribute("data-cursor-t", re.compile(r"."))

    # Shift+arrows pan by a quarter of the window.
    loads(v, lambda: page.keyboard.press("Shift+ArrowLeft"))
    assert v.dash("live") is False
    panned = v.window
    assert panned[0] == pytest.approx(start - (end - start) / 4, abs=2)
    assert panned[1] - panned[0] == pytest.approx(end - start, abs=2)
