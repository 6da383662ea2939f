"""Served under a path prefix (#9): a real HAProxy publishes the app at /bioreactor/ and
strips the prefix; ``ROOT_PATH`` tells the app, which also takes the prefix unstripped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from realtime.auth import SESSION_COOKIE
from realtime.htpasswd import hash_password
from realtime.views.assets import IMMUTABLE
from tests.support.balancer import prefixed_proxy
from tests.support.http import request
from tests.support.pg import TestDb, run
from tests.support.sample import T0, app_settings, fill, ms
from tests.support.server import LiveServer, serve
from tests.support.wsclient import Viewer

PREFIX = "/bioreactor"
KEYS = ["temperature", "ph", "do", "pressure"]


@pytest.fixture
def server(db: TestDb) -> Iterator[LiveServer]:
    fill(db)
    with serve(app_settings(db, root_path=PREFIX, poll_interval=0.1)) as live:
        yield live


@pytest.fixture
def proxy(server: LiveServer) -> Iterator[int]:
    """The proxy's port."""
    with prefixed_proxy(server.port, PREFIX) as url:
        yield int(url.rsplit(":", 1)[1])


def test_page_assets_and_api_answer_under_the_prefix(proxy: int) -> None:
    bare = request(proxy, PREFIX)
    assert bare.status == 301
    assert bare.headers["location"] == PREFIX + "/"
    page = request(proxy, PREFIX + "/", headers={"Accept-Encoding": "gzip"})
    assert page.status == 200
    assert page.headers["content-encoding"] == "gzip"
    text = request(proxy, PREFIX + "/").text
    assets = re.findall(r'(?:src|href)="((?!data:)[^"#]+)"', text)
    assert len(assets) == 2
    for asset in assets:
        assert asset.startswith("static/"), "relative to the page, so under the prefix"
        reply = request(proxy, f"{PREFIX}/{asset}")
        assert reply.status == 200
        assert reply.headers["cache-control"] == IMMUTABLE
    assert [s["key"] for s in request(proxy, PREFIX + "/api/series").json()] == KEYS
    window = f"start={ms(T0)}&end={ms(T0 + timedelta(hours=2))}&points=100"
    batch = request(proxy, f"{PREFIX}/api/data?{window}").json()
    assert list(batch["series"]) == KEYS
    assert batch["series"]["temperature"]["count"] == 7200
    # The boot JSON's WebSocket path is relative too.
    assert '"ws_path":"ws"' in text


def test_the_live_feed_delivers_rows_under_the_prefix(proxy: int, db: TestDb) -> None:
    viewer = Viewer(f"ws://127.0.0.1:{proxy}{PREFIX}/ws")
    try:
        last = ms(T0 + timedelta(seconds=7199))
        viewer.subscribe_and_wait({"temperature": last})
        fresh = T0 + timedelta(seconds=7300)
        run(db.insert("temperature", [(fresh, 41.5)]))
        viewer.wait_for(lambda v: (ms(fresh), 41.5) in v.rows.get("temperature", []))
    finally:
        viewer.close()


def test_a_proxy_that_passes_the_prefix_on_is_served_too(server: LiveServer) -> None:
    bare = request(server.port, PREFIX)
    assert bare.status == 308
    assert bare.headers["location"] == PREFIX + "/"
    assert request(server.port, PREFIX + "/").status == 200
    assert [s["key"] for s in request(server.port, PREFIX + "/api/series").json()] == KEYS
    # And without the prefix (a proxy that strips it), the same.
    assert request(server.port, "/api/series").json() == request(server.port, PREFIX + "/api/series").json()


def test_sign_in_redirects_and_cookie_stay_under_the_prefix(db: TestDb, tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text(f"alice:{hash_password('wonderland-42', rounds=4).decode()}\n", encoding="utf-8")
    settings = app_settings(db, root_path=PREFIX, auth_users_file=users)
    with serve(settings) as live, prefixed_proxy(live.port, PREFIX) as url:
        port = int(url.rsplit(":", 1)[1])
        navigate = {"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}
        first = request(port, PREFIX + "/?range=6h", headers=navigate)
        assert first.status == 303
        location = first.headers["location"]
        assert location == PREFIX + "/signin?next=%2F%3Frange%3D6h"
        form = request(port, location)
        assert form.status == 200
        assert 'action="signin"' in form.text
        # The sign-in page's styles are open, under the prefix.
        for sheet in re.findall(r'href="(static/[^"]+\.css)"', form.text):
            assert request(port, f"{PREFIX}/{sheet}").status == 200
        posted = request(
            port,
            PREFIX + "/signin",
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": url},
            body=urlencode({"user": "alice", "password": "wonderland-42", "next": "/?range=6h"}).encode(),
        )
        assert posted.status == 303
        assert posted.headers["location"] == PREFIX + "/?range=6h"
        cookie = next(c for c in posted.cookies if c.startswith(f"{SESSION_COOKIE}="))
        assert f"path={PREFIX}" in cookie.lower().replace("; ", ";").split(";")
        page = request(port, PREFIX + "/", headers={"Cookie": cookie.split(";")[0]})
        assert page.status == 200
        assert 'action="signout"' in page.text
        out = request(port, PREFIX + "/signout", method="POST", headers={"Cookie": cookie.split(";")[0], "Origin": url})
        assert out.status == 303
        assert urlsplit(out.headers["location"]).path == PREFIX + "/signin"
