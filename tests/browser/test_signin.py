"""The dashboard behind its sign-in page, in a real browser, under the CSP with no console errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from realtime.auth import SESSION_COOKIE
from realtime.htpasswd import hash_password
from tests.browser.helpers import Console, plant_server, to_ms, utc_now, wait_ready
from tests.support.pg import TestDb, run
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def auth_server(module_plant: TestDb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    users = tmp_path_factory.mktemp("users") / "htpasswd"
    users.write_text(f"alice:{hash_password(PASSWORD, rounds=4).decode()}\n", encoding="utf-8")
    with plant_server(module_plant, auth_users_file=Path(users)) as live:
        yield live


def test_sign_in_watch_live_and_sign_out(browser: Browser, auth_server: LiveServer, module_plant: TestDb) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id="UTC")
    console = Console()
    page = context.new_page()
    page.on("console", console)
    page.on("pageerror", lambda exc: console.errors.append(f"page error: {exc}"))
    url = auth_server.url
    try:
        page.goto(url + "/?range=6h")
        expect(page).to_have_url(re.compile(r"/signin\?next=%2F%3Frange%3D6h$"))
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(page.get_by_test_id("signin-insecure")).to_have_count(0)  # localhost counts as secure

        page.get_by_label("User name").fill("alice")
        page.get_by_label("Password").fill("not it")
        page.get_by_test_id("signin-submit").click()
        expect(page.get_by_test_id("signin-error")).to_have_text("Wrong user name or password.")
        # The refused form comes back as a 401 page: Chrome notes that status, and only that.
        refused = [e for e in console.errors if "status of 401" in e]
        assert console.errors == refused
        console.errors.clear()

        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_test_id("signin-submit").click()
        expect(page).to_have_url(url + "/?range=6h")
        wait_ready(page)
        page.wait_for_function("() => window.__dashboard.connection === 'live'", timeout=10_000)
        expect(page.get_by_test_id("signed-in-user")).to_have_text("alice")
        cookie = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
        assert cookie["httpOnly"]
        assert cookie["secure"]
        assert cookie["sameSite"] == "Lax"

        # Live over the authenticated WebSocket: a row written now arrives without a reload.
        t = utc_now()
        run(module_plant.insert("ph", [(t, 6.54321)]))
        page.wait_for_function(f"() => window.__dashboard.lastT('ph') >= {to_ms(t)}", timeout=10_000)
        expect(page.get_by_test_id("tile-ph-value")).to_have_text("6.543")

        page.get_by_test_id("sign-out").click()
        expect(page).to_have_url(url + "/signin")
        assert not [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
        page.goto(url + "/")
        expect(page).to_have_url(url + "/signin")
    finally:
        context.close()
    assert console.errors == [], f"JavaScript errors in the console: {console.errors}"
