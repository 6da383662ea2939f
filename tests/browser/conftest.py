"""A real browser (Debian's Chromium, driven by Playwright) against the real app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from realtime.config import PgSettings
from tests.browser.helpers import (
    Console,
    Viewer,
    backfill_db,
    open_dashboard,
    plant_schema,
    plant_server,
    wait_ready,
)
from tests.support.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.support.pg import PgServer, TestDb, run
from tests.support.server import LiveServer, serve


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def plant(db: TestDb) -> TestDb:
    """Three hours of simulated history ending now, as a live run looks."""
    end = datetime.now(timezone.utc).replace(tzinfo=None)
    run(backfill_db(db, 3.0, end - timedelta(seconds=1)))
    return db


@pytest.fixture
def server(plant: TestDb) -> Iterator[LiveServer]:
    with serve(plant.settings(poll_interval=0.2)) as live:
        yield live


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


@pytest.fixture
def viewer(browser: Browser, module_server: LiveServer) -> Iterator[Viewer]:
    """A fresh tab on the module's shared server, at the default view."""
    with open_dashboard(browser, module_server) as v:
        yield v


@pytest.fixture(scope="module")
def module_plant(pg_admin: PgSettings, pg_server: PgServer) -> TestDb:
    """Three hours of history ending now, shared by one test module's tests."""
    return plant_schema(pg_admin, pg_server)


@pytest.fixture(scope="module")
def module_server(module_plant: TestDb) -> Iterator[LiveServer]:
    with plant_server(module_plant) as live:
        yield live
