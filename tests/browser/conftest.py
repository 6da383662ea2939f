"""A real browser (Debian's Chromium, driven by Playwright) against the real app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from realtime.config import PgSettings
from realtime.simulate import backfill
from tests.live import LiveServer, serve
from tests.pg import PgServer, TestDb, run

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


async def _backfill(db: TestDb, hours: float, end: datetime) -> None:
    conn = await db.connect()
    try:
        await backfill(conn, db.series, hours=hours, end=end, seed=42)
    finally:
        await conn.close()


@pytest.fixture
def plant(db: TestDb) -> TestDb:
    """Three hours of simulated history ending now, as a live run looks."""
    end = datetime.now(timezone.utc).replace(tzinfo=None)
    run(_backfill(db, 3.0, end - timedelta(seconds=1)))
    return db


@pytest.fixture
def server(plant: TestDb) -> Iterator[LiveServer]:
    with serve(plant.settings(poll_interval=0.2)) as live:
        yield live


class Console:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def __call__(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.errors.append(msg.text)


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    console = Console()
    pg.on("console", console)
    pg.on("pageerror", lambda exc: console.errors.append(f"page error: {exc}"))
    pg.goto(server.url + "/")
    wait_ready(pg)
    yield pg
    context.close()
    assert console.errors == [], f"JavaScript errors in the console: {console.errors}"


def wait_ready(pg: Page) -> None:
    pg.wait_for_function("() => window.__dashboard && window.__dashboard.ready && !window.__dashboard.loading")


def dash(pg: Page, expr: str) -> Any:
    return pg.evaluate(f"() => window.__dashboard.{expr}")


@pytest.fixture(scope="module")
def module_plant(pg_admin: PgSettings, pg_server: PgServer) -> TestDb:
    """Three hours of history ending now, shared by one test module's tests."""
    from tests.browser.helpers import plant_schema

    return plant_schema(pg_admin, pg_server)


@pytest.fixture(scope="module")
def module_server(module_plant: TestDb) -> Iterator[LiveServer]:
    from tests.browser.helpers import plant_server

    with plant_server(module_plant) as live:
        yield live
