"""Shared pieces of the browser tests: a plant and a server per module, tabs that
record console errors, and readers for the dashboard's state."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from realtime.config import PgSettings
from realtime.sim.live import Simulator
from realtime.sim.sampling import Sampling
from realtime.sim.tables import backfill
from tests.support.pg import PgServer, TestDb, create_schema, run
from tests.support.server import LiveServer, serve

KEYS = ("temperature", "ph", "do", "pressure")
NAMES = {"temperature": "Temperature", "ph": "pH", "do": "Dissolved oxygen", "pressure": "Pressure"}
EPOCH = datetime(1970, 1, 1)
MINUTE = 60_000
HOUR = 60 * MINUTE


async def backfill_db(db: TestDb, hours: float, end: datetime) -> None:
    conn = await db.connect()
    try:
        await backfill(conn, db.series, hours=hours, end=end, seed=42)
    finally:
        await conn.close()


class Console:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)


def wait_ready(pg: Page) -> None:
    pg.wait_for_function("() => window.__dashboard && window.__dashboard.ready && !window.__dashboard.loading")


def dash(pg: Page, expr: str) -> Any:
    return pg.evaluate(f"() => window.__dashboard.{expr}")


def to_ms(t: datetime) -> int:
    """Epoch ms of a naive-UTC (or aware) datetime."""
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc).replace(tzinfo=None)
    return (t - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    """The naive-UTC datetime of epoch ms (the tables' convention)."""
    return EPOCH + timedelta(milliseconds=ms)


def utc_now() -> datetime:
    """Now as naive UTC, to the millisecond (what the historian writes)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso_to_ms(iso: str) -> int:
    """An ISO 8601 time from the API (naive means UTC) as epoch ms."""
    return to_ms(datetime.fromisoformat(iso.replace("Z", "+00:00")))


def plant_schema(pg_admin: PgSettings, pg_server: PgServer, hours: float = 3.0) -> TestDb:
    """A fresh schema holding ``hours`` of simulated history ending now."""
    db: TestDb = run(create_schema(pg_admin, pg_server))
    end = datetime.now(timezone.utc).replace(tzinfo=None)
    run(backfill_db(db, hours, end - timedelta(seconds=1)))
    return db


@contextmanager
def plant_server(db: TestDb, **settings: Any) -> Iterator[LiveServer]:
    options: dict[str, Any] = {"poll_interval": 0.2}
    options.update(settings)
    with serve(db.settings(**options)) as live:
        yield live


@dataclass
class Viewer:
    """One browser tab on the dashboard, with the console errors it has logged."""

    page: Page
    console: Console
    server: LiveServer

    def dash(self, expr: str) -> Any:
        return dash(self.page, expr)

    @property
    def window(self) -> tuple[int, int]:
        w = self.dash("window")
        return int(w["start"]), int(w["end"])


@contextmanager
def open_dashboard(
    browser: Browser, server: LiveServer, path: str = "/", *, check_console: bool = True, **context: Any
) -> Iterator[Viewer]:
    """A new browser context (UTC, 1440 by 900, light) on the dashboard, loaded.

    Fails the test if the page logged a console error or threw.
    """
    options: dict[str, Any] = {
        "viewport": {"width": 1440, "height": 900},
        "accept_downloads": True,
        "timezone_id": "UTC",
        "color_scheme": "light",
        "locale": "en-US",
    }
    options.update(context)
    ctx = browser.new_context(**options)
    # wait_stats reads the fetches from resource timing: keep every entry.
    ctx.add_init_script("performance.setResourceTimingBufferSize(100000)")
    console = Console()
    try:
        pg = ctx.new_page()
        pg.on("console", console)
        pg.on("pageerror", lambda exc: console.errors.append(f"page error: {exc}"))
        pg.goto(server.url + path)
        wait_ready(pg)
        yield Viewer(page=pg, console=console, server=server)
    finally:
        ctx.close()
    if check_console:
        assert console.errors == [], f"JavaScript errors in the console: {console.errors}"


def wait_live(v: Viewer) -> None:
    """Waits until the WebSocket is up (the connection pill says live)."""
    v.page.wait_for_function("() => window.__dashboard.connection === 'live'", timeout=10_000)


def loads(v: Viewer, action: Callable[[], None], what: str = "/data?") -> None:
    """Runs ``action`` and waits until the window it caused has been fetched and drawn."""
    with v.page.expect_response(lambda r: what in r.url, timeout=10_000):
        action()
    wait_ready(v.page)


def wait_stats(v: Viewer) -> None:
    """Waits until every series' statistics for the current window have been fetched and shown."""
    start, end = v.window
    v.page.wait_for_function(
        """([keys, query]) => {
            const names = performance.getEntriesByType('resource').map((r) => r.name);
            const fetched = keys.every((k) => names.some((n) => n.includes(`/api/series/${k}/stats?${query}`)));
            return fetched && !document.querySelector('[data-testid^="stats-"].is-pending');
        }""",
        arg=[list(KEYS), f"start={start}&end={end}"],
        timeout=10_000,
    )


def canvas_has_ink(page: Page, key: str) -> bool:
    """True when the chart's canvas has drawn pixels (not a blank box)."""
    script = """(key) => {
        const c = document.querySelector(`[data-testid="chart-${key}"] canvas`);
        if (!c || c.width === 0) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let ink = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
        return ink > 500;
    }"""
    return bool(page.evaluate(script, key))


def canvas_pixels(page: Page, key: str) -> str:
    """The chart canvas as a data URL, to tell whether it was redrawn differently."""
    return str(page.evaluate('(k) => document.querySelector(`[data-testid="chart-${k}"] canvas`).toDataURL()', key))


def plot_box(page: Page, key: str) -> dict[str, float]:
    """Viewport box of a chart's plotting area (uPlot's event overlay)."""
    box = page.locator(f'[data-testid="chart-{key}"] .u-over').bounding_box()
    assert box is not None, f"chart {key} has no plot area"
    return {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}


def drag(page: Page, key: str, a: float, b: float, *, shift: bool = False) -> None:
    """Drags across a chart's plot from fraction ``a`` to ``b`` of its width (shift: a pan)."""
    box = plot_box(page, key)
    y = box["y"] + box["height"] / 2
    if shift:
        page.keyboard.down("Shift")
    page.mouse.move(box["x"] + box["width"] * a, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * (a + b) / 2, y, steps=5)
    page.mouse.move(box["x"] + box["width"] * b, y, steps=5)
    page.mouse.up()
    if shift:
        page.keyboard.up("Shift")


def cursor_time(page: Page, key: str, offset_px: float, zone: str = "UTC") -> int:
    """The time the tooltip shows with the mouse ``offset_px`` into a chart's plot (negative: from the right).

    ``zone`` is the browser's time zone, in which the tooltip shows times.

    The tooltip is computed from that chart's own x scale, so this reads the
    scale of each chart independently.
    """
    box = plot_box(page, key)
    x = box["x"] + offset_px if offset_px >= 0 else box["x"] + box["width"] + offset_px
    tip = page.locator(f'[data-testid="chart-{key}"] .tooltip .tt-time')
    before = tip.inner_text().strip() if tip.is_visible() else None
    page.mouse.move(x, box["y"] + box["height"] / 2)
    tip.wait_for(state="visible", timeout=5_000)
    if before is not None:  # the tooltip was up already: wait for it to follow the mouse
        expect(tip).not_to_have_text(before)
    text = tip.inner_text().strip()
    fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    return to_ms(datetime.strptime(text, fmt).replace(tzinfo=ZoneInfo(zone)))


def stat_values(page: Page, key: str) -> dict[str, str]:
    """The stats line of one chart: {"min": "6.901", ..., "rows": "1,234"}."""
    script = """(key) => {
        const el = document.querySelector(`[data-testid="stats-${key}"]`);
        const out = {};
        for (const s of el.querySelectorAll('.stat')) {
            const label = s.querySelector('.stat-label');
            const value = s.querySelector('.stat-value');
            if (label && value) out[label.textContent.trim()] = value.textContent.trim();
            else if (s.classList.contains('stat-count')) out['rows'] = s.textContent.replace('rows', '').trim();
        }
        return out;
    }"""
    result: dict[str, str] = page.evaluate(script, key)
    return result


def decimals_for(x: float) -> int:
    """The frontend's readout precision (format.ts decimalsFor)."""
    a = abs(x)
    return 0 if a >= 1000 else 1 if a >= 100 else 2 if a >= 10 else 3


@contextmanager
def simulating(db: TestDb, sampling: Mapping[str, Sampling] | None = None) -> Iterator[Simulator]:
    """The plant's simulator writing live rows, on a thread with its own event loop."""
    sim = Simulator(db.admin, db.series, seed=1, gaps=False, sampling=sampling)
    started = threading.Event()
    handles: dict[str, object] = {}
    failure: list[BaseException] = []

    async def main() -> None:
        stop = asyncio.Event()
        handles["loop"], handles["stop"] = asyncio.get_running_loop(), stop
        started.set()
        await sim.run(stop)

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported in the test thread
            failure.append(exc)
            started.set()

    thread = threading.Thread(target=target, name="simulator", daemon=True)
    thread.start()
    assert started.wait(10), "the simulator did not start"
    try:
        yield sim
    finally:
        loop, stop = handles.get("loop"), handles.get("stop")
        if isinstance(loop, asyncio.AbstractEventLoop) and isinstance(stop, asyncio.Event):
            loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        assert not thread.is_alive(), "the simulator did not stop"
    if failure:
        raise failure[0]
