"""Checks the browser tests share: the API as the page sees it, the database's counts, the URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.browser.helpers import KEYS, Viewer, cursor_time, from_ms, iso_to_ms, plot_box, to_ms, utc_now
from tests.support.pg import TestDb, connect, run

PRESETS = ("preset-15m", "preset-1h", "preset-6h", "preset-24h", "preset-7d", "preset-all")


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
