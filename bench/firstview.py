"""First view (issue #8): navigation → four charts drawn, in headless Chromium on loopback.

Serves three hours of simulated history (as the browser tests do), then opens the
dashboard ``--runs`` times in a fresh browser context each (a cold cache: what a
first visit costs) and as many times in one context (a warm cache: a reload).
"Drawn" is the first animation frame at which the dashboard says it is ready and
every chart has its canvas, timed inside the page (so the harness's own round
trips do not count). Bytes are what went over the wire for the page and its
fetches (headers included; the WebSocket is not counted: it opens after the
charts are drawn).

Beside it, in the same runs, two reference pages (bench/floorpage.py): a blank
page, and a bare uPlot page drawing the same four windows from the same
``/api/data`` response. They say what this machine's Chromium needs at the least.

    .venv/bin/python -m bench.firstview            # embedded PostgreSQL
    POSTGRES_HOST=127.0.0.1 POSTGRES_PORT=5432 POSTGRES_USER=postgres \\
    POSTGRES_DB=postgres .venv/bin/python -m bench.firstview --runs 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from playwright.sync_api import Browser, BrowserContext, sync_playwright

from bench.floorpage import reference_pages
from realtime.sim.tables import backfill
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.support.pg import TestDb, create_database, create_schema, drop_database, server_from_env
from tests.support.server import serve

KEYS = ("temperature", "ph", "do", "pressure")
GOAL_MS = 200.0
GOAL_BYTES = 150 * 1024
DASHBOARD_COLD = "dashboard, first visit (cold cache)"

_server = contextmanager(partial(server_from_env, prefix="rt-bench-"))

# Runs in every page before its own scripts: at each animation frame, checks whether the charts are
# drawn and records when, with the bytes fetched so far.
_WATCH = """(() => {
    const keys = KEYS_JSON;
    const drawn = () => {
        const d = window.__dashboard;
        if (!d || !d.ready || d.loading) return false;
        return keys.every((k) => document.querySelector(`[data-testid="chart-${k}"] canvas`)?.width > 0);
    };
    const check = () => {
        if (!drawn()) return requestAnimationFrame(check);
        const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
        const bytes = entries.reduce((n, e) => n + e.transferSize, 0);
        window.__drawn = {ms: performance.now(), bytes, requests: entries.length};
    };
    requestAnimationFrame(check);
})();""".replace("KEYS_JSON", json.dumps(list(KEYS)))


async def _backfill(db: TestDb, hours: float, end: datetime) -> None:
    conn = await db.connect()
    try:
        await backfill(conn, db.series, hours=hours, end=end, seed=42)
    finally:
        await conn.close()


def _open(context: BrowserContext, url: str) -> dict[str, Any]:
    page = context.new_page()
    try:
        page.goto(url)
        drawn: dict[str, Any] = page.wait_for_function("() => window.__drawn", timeout=30_000).json_value()
        return drawn
    finally:
        page.close()


def _new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC", locale="en-US")
    context.add_init_script("performance.setResourceTimingBufferSize(10000)")
    context.add_init_script(_WATCH)
    return context


def _cold(browser: Browser, url: str) -> dict[str, Any]:
    context = _new_context(browser)
    try:
        return _open(context, url)
    finally:
        context.close()


def _warm(browser: Browser, url: str, runs: int) -> list[dict[str, Any]]:
    context = _new_context(browser)
    try:
        _open(context, url)  # fills the cache
        return [_open(context, url) for _ in range(runs)]
    finally:
        context.close()


def _measure(browser: Browser, dashboard: str, refs: dict[str, str], runs: int) -> dict[str, list[dict[str, Any]]]:
    """Cold loads taken in turns (dashboard, then each reference page), so that all see the same machine."""
    results: dict[str, list[dict[str, Any]]] = {DASHBOARD_COLD: []}
    results.update({f"{name}, first visit": [] for name in refs})
    for _ in range(runs):
        results[DASHBOARD_COLD].append(_cold(browser, dashboard))
        for name, url in refs.items():
            results[f"{name}, first visit"].append(_cold(browser, url))
    results["dashboard, reload (warm cache)"] = _warm(browser, dashboard, runs)
    return results


def _batch(page_url: str, browser: Browser) -> bytes:
    """The /api/data response a dashboard load asked for (same window, same points), for the bare page."""
    context = _new_context(browser)
    try:
        page = context.new_page()
        page.goto(page_url)
        page.wait_for_function("() => window.__drawn", timeout=30_000)
        names: list[str] = page.evaluate(
            "performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/api/data?'))"
        )
    finally:
        context.close()
    with urllib.request.urlopen(names[0], timeout=30) as r:
        body: bytes = r.read()
    return body


def _p90(xs: list[float]) -> float:
    ordered = sorted(xs)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="firstview", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=10, help="page loads per row of the table")
    p.add_argument("--hours", type=float, default=3.0, help="hours of simulated history")
    p.add_argument("--path", default="/", help="the page's path (a time window in the URL, for example)")
    args = p.parse_args(argv)

    with _server() as server:
        admin = asyncio.run(create_database(server.admin))
        try:
            db = asyncio.run(create_schema(admin, server))
            end = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)
            asyncio.run(_backfill(db, args.hours, end))
            with serve(db.settings(poll_interval=0.2)) as live, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    url = live.url + args.path
                    batch = _batch(url, browser)  # also warms the server and Chromium
                    with reference_pages(batch, KEYS) as refs:
                        for u in refs.values():
                            _cold(browser, u)  # warms the reference server
                        results = _measure(browser, url, refs, args.runs)
                finally:
                    browser.close()
        finally:
            asyncio.run(drop_database(server.admin, admin.database))

    rows = []
    ok = True
    for name, runs in results.items():
        ms = [r["ms"] for r in runs]
        kb = [r["bytes"] / 1024 for r in runs]
        med_ms, med_kb = statistics.median(ms), statistics.median(kb)
        good = med_ms <= GOAL_MS and med_kb * 1024 <= GOAL_BYTES
        judged = name == DASHBOARD_COLD
        ok = ok and (good or not judged)
        requests = statistics.median(r["requests"] for r in runs)
        verdict = ("✓" if good else "✗") if judged else ""
        rows.append((name, f"{med_ms:.0f}", f"{_p90(ms):.0f}", f"{med_kb:.1f}", f"{requests:.0f}", verdict))
    head = ("navigation → 4 charts drawn", "median ms", "p90 ms", "KB", "requests", "≤ 200 ms, ≤ 150 KB")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    load = os.getloadavg()[0]
    print(f"\n{args.runs} runs each, {args.hours:g} h of history, headless Chromium on loopback")
    # Times are CPU-bound (parsing, layout, drawing): say how busy the machine was.
    print(f"load average over the last minute: {load:.1f} on {os.cpu_count()} CPUs")
    for row in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
