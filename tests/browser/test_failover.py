"""A real browser on two replicas behind a real balancer (HAProxy): the replica
carrying its live feed dies, the page fails over by itself, and it ends up
holding every row exactly once."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Browser

from realtime.times import us_from_dt, wire_ms1
from tests.browser.helpers import utc_now, wait_ready
from tests.support.balancer import balancer
from tests.support.pg import TestDb, run
from tests.support.server import LiveServer, serve, wait_until

pytestmark = pytest.mark.browser


def wire(t: datetime) -> float:
    """A naive-UTC time as the wire (and so the page) holds it."""
    return wire_ms1(us_from_dt(t))


def test_the_page_fails_over_between_replicas_without_losing_or_repeating_a_row(browser: Browser, db: TestDb) -> None:
    start = utc_now() - timedelta(minutes=5)
    for key in ("temperature", "ph", "pressure"):
        run(db.insert(key, [(start + timedelta(seconds=10 * i), 1.0 + i) for i in range(20)]))
    written: list[tuple[datetime, float]] = [(start + timedelta(seconds=i), float(i)) for i in range(60)]
    run(db.insert("do", written))
    settings = db.settings(poll_interval=0.2)
    stop = threading.Event()

    def historian() -> None:
        async def write() -> None:
            conn = await db.connect()
            try:
                i = 1000
                while not stop.is_set():
                    row = (datetime.now(timezone.utc).replace(tzinfo=None), float(i))
                    await conn.execute(f"INSERT INTO {db.qualified('do')} VALUES ($1, $2)", *row)
                    written.append(row)
                    i += 1
                    await asyncio.sleep(0.1)
            finally:
                await conn.close()

        asyncio.run(write())

    with ExitStack() as stack:
        replicas: list[tuple[ExitStack, LiveServer]] = []
        for _ in range(2):
            own = stack.enter_context(ExitStack())
            replicas.append((own, own.enter_context(serve(settings))))
        url = stack.enter_context(balancer([live.port for _, live in replicas]))
        context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC")
        stack.callback(context.close)
        page = context.new_page()
        page.goto(f"{url}/?range=15m")
        wait_ready(page)
        writer = threading.Thread(target=historian)
        writer.start()
        try:
            page.wait_for_function("() => window.__dashboard.points('do') > 80", timeout=30_000)
            # Kill the replica that carries the page's live feed, mid-stream.
            wait_until(lambda: any(len(live.ctx.hub) == 1 for _, live in replicas))
            own, dead = next((own, live) for own, live in replicas if len(live.ctx.hub) == 1)
            own.close()
            assert dead.stopped
            survivor = next(live for _, live in replicas if live is not dead)
            # The page reconnects through the balancer to the replica still standing.
            wait_until(lambda: len(survivor.ctx.hub) == 1, timeout=30)
            page.wait_for_function(f"() => window.__dashboard.points('do') > {len(written) + 20}", timeout=30_000)
        finally:
            stop.set()
            writer.join()
        wait_until(lambda: survivor.ctx.store["do"].n == len(written), timeout=15)
        page.wait_for_function(f"() => window.__dashboard.points('do') === {len(written)}", timeout=30_000)
        assert page.evaluate("() => window.__dashboard.downsampled('do')") is False
        held: Counter[tuple[float, float]] = Counter()
        for t in {wire(t) for t, _ in written}:
            held.update((t, v) for v in page.evaluate(f"() => window.__dashboard.valuesAt('do', {t!r})"))
        assert held == Counter((wire(t), v) for t, v in written)
