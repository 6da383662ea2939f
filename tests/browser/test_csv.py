"""Download CSV: the file holds exactly the database rows of the visible window."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.helpers import (
    KEYS,
    MINUTE,
    Viewer,
    from_ms,
    iso_to_ms,
    loads,
    open_dashboard,
)
from tests.support.pg import TestDb, connect, run
from tests.support.server import LiveServer, wait_until

pytestmark = pytest.mark.browser

HEADERS = {"temperature": "Temperature (°C)", "ph": "pH", "do": "Dissolved oxygen (%)", "pressure": "Pressure (psi)"}
Row = tuple[datetime, float | None]


def db_rows(db: TestDb, keys: Sequence[str], start: int, end: int) -> dict[str, list[Row]]:
    """Every row of [start, end] (both included) per series, straight from PostgreSQL."""

    async def go() -> dict[str, list[Row]]:
        conn = await connect(db.admin)
        try:
            out: dict[str, list[Row]] = {}
            for key in keys:
                records = await conn.fetch(
                    f"SELECT time, value FROM {db.qualified(key)} WHERE time >= $1 AND time <= $2 ORDER BY time",
                    from_ms(start),
                    from_ms(end),
                )
                out[key] = [(r["time"], r["value"]) for r in records]
            return out
        finally:
            await conn.close()

    return run(go())


def stamp(ms: int) -> str:
    return from_ms(ms).strftime("%Y%m%dT%H%M%SZ")


def download(v: Viewer) -> tuple[str, list[list[str]]]:
    """Clicks Download CSV; returns the file's name and its parsed lines."""
    with v.page.expect_download() as info:
        v.page.get_by_test_id("download-csv").click()
    d = info.value
    path = d.path()
    text = path.read_bytes().decode("utf-8")
    return d.suggested_filename, list(csv.reader(io.StringIO(text, newline="")))


def check_csv(v: Viewer, db: TestDb, keys: Sequence[str]) -> None:
    """Downloads the CSV of the visible window and compares it with the database, row by row."""
    start, end = v.window
    name, lines = download(v)
    assert name == f"bioreactor_{stamp(start)}_{stamp(end)}.csv", "the file name carries the range"
    assert lines[0] == ["time", *(HEADERS[k] for k in keys)]
    body = lines[1:]
    assert body, "the window holds rows"

    times = [datetime.fromisoformat(line[0].removesuffix("Z")) for line in body]
    assert all(line[0].endswith("Z") for line in body), "times are ISO 8601 UTC"
    assert times == sorted(times), "lines are in time order"
    assert from_ms(start) <= times[0], f"a line before the window: {times[0]} < {from_ms(start)}"
    assert times[-1] <= from_ms(end), f"a line after the window: {times[-1]} > {from_ms(end)}"

    expected = db_rows(db, keys, start, end)
    for i, key in enumerate(keys, start=1):
        got = sorted((t, float(line[i])) for t, line in zip(times, body, strict=True) if line[i] != "")
        want = sorted((t, value) for t, value in expected[key] if value is not None)
        # Exact: same instants to the microsecond, same float64 values.
        assert got == want, f"{key}: the CSV has {len(got)} values, the database {len(want)} in the window"

    # One line per instant, plus one for each further row a series has at that instant.
    instants: set[tuple[datetime, int]] = set()
    for key in keys:
        seen: Counter[datetime] = Counter()
        for t, _ in expected[key]:
            instants.add((t, seen[t]))
            seen[t] += 1
    assert len(body) == len(instants)


def test_csv_matches_database_rows_of_visible_window(
    browser: Browser, module_server: LiveServer, module_plant: TestDb
) -> None:
    """A fixed window with rows on both bounds, just outside them, a NULL and a repeated instant."""
    with open_dashboard(browser, module_server) as v:
        series = v.page.request.get(module_server.url + "/api/series").json()
        newest = max(iso_to_ms(s["last"]) for s in series)
        start = (newest - 40 * MINUTE) // 1000 * 1000
        end = start + 20 * MINUTE + 3000
        edge = timedelta(milliseconds=1)
        t0, t1 = from_ms(start), from_ms(end)
        mid = from_ms(start + 10 * MINUTE + 123)
        run(module_plant.insert("ph", [(t0, 6.875), (t1, 6.125), (t0 - edge, 6.5), (t1 + edge, 6.5)]))
        run(module_plant.insert("do", [(mid, None)]))
        run(module_plant.insert("temperature", [(mid, 36.875), (mid, 36.9375)]))

        def caught_up() -> bool:
            # The server merges late rows on its next reconcile: wait until it holds all seven.
            url = f"{module_server.url}/api/series/ph/data?start={start - 1}&end={end + 1}&points=10000"
            ph = v.page.request.get(url).json()
            t = set(ph["t"])
            temp = v.page.request.get(f"{module_server.url}/api/series/temperature/data?start={start}&end={end}").json()
            return {start - 1, start, end, end + 1} <= t and temp["t"].count(start + 10 * MINUTE + 123) == 2

        wait_until(caught_up, timeout=15)

        v.page.get_by_test_id("range-start").fill(t0.strftime("%Y-%m-%dT%H:%M:%S"))
        v.page.get_by_test_id("range-end").fill(t1.strftime("%Y-%m-%dT%H:%M:%S"))
        loads(v, v.page.get_by_test_id("range-apply").click)
        assert v.window == (start, end)
        check_csv(v, module_plant, KEYS)

        # The bounds are included and the rows just outside them are not.
        _, lines = download(v)
        ph_times = [line[0] for line in lines[1:] if line[2] != ""]
        assert ph_times[0] == t0.isoformat(timespec="milliseconds") + "Z"
        assert ph_times[-1] == t1.isoformat(timespec="milliseconds") + "Z"


def test_csv_of_chosen_series_in_a_live_window(
    browser: Browser, module_server: LiveServer, module_plant: TestDb
) -> None:
    with open_dashboard(browser, module_server) as v:
        page = v.page
        loads(v, page.get_by_test_id("preset-15m").click)
        page.locator("#csv-menu summary").click()
        page.locator("#csv-series input[value=temperature]").uncheck()
        page.locator("#csv-series input[value=pressure]").uncheck()
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("download-csv")).to_have_attribute(
            "title", "Download the visible window as CSV (2 of 4 series)"
        )
        check_csv(v, module_plant, ["ph", "do"])
