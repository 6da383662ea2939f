"""The dashboard under a path prefix (#9), behind a real HAProxy that strips it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser.checks import insert_now
from tests.browser.helpers import KEYS, Console, Viewer, canvas_has_ink, plant_server, wait_ready
from tests.support.balancer import prefixed_proxy
from tests.support.pg import TestDb
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

PREFIX = "/bioreactor"


@pytest.fixture(scope="module")
def prefixed(module_plant: TestDb) -> Iterator[tuple[LiveServer, str]]:
    with plant_server(module_plant, root_path=PREFIX) as live, prefixed_proxy(live.port, PREFIX) as url:
        yield live, url


def test_charts_and_live_rows_under_a_prefix(
    browser: Browser, prefixed: tuple[LiveServer, str], module_plant: TestDb
) -> None:
    live, url = prefixed
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC")
    console = Console()
    requests: list[str] = []
    try:
        page = context.new_page()
        page.on("console", console)
        page.on("pageerror", lambda exc: console.errors.append(f"page error: {exc}"))
        page.on("request", lambda r: requests.append(r.url))
        page.on("websocket", lambda ws: requests.append(ws.url))
        page.goto(url + PREFIX)  # without the slash: the proxy redirects to the page
        wait_ready(page)
        for key in KEYS:
            assert canvas_has_ink(page, key), key
        page.wait_for_function("() => window.__dashboard.connection === 'live'", timeout=10_000)
        # A row written now reaches the page through the prefixed WebSocket.
        insert_now(Viewer(page=page, console=console, server=live), module_plant, "pressure", 15.25)
        http = [u for u in requests if u.startswith("http")]
        assert any(u.startswith(f"{url}{PREFIX}/api/data?") for u in http)
        assert f"ws{url.removeprefix('http')}{PREFIX}/ws" in requests
        assert all(u.startswith(f"{url}{PREFIX}") for u in http if not u.startswith("data:")), http
    finally:
        context.close()
    assert console.errors == [], f"JavaScript errors in the console: {console.errors}"
