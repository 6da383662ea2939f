"""The front door on a real server in open mode: headers, origins, redirects and long request lines."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from realtime.security import MAX_TARGET
from realtime.serving import MAX_HEAD
from realtime.views.assets import asset_urls
from tests.support.http import raw_exchange, request
from tests.support.pg import TestDb
from tests.support.server import LiveServer, serve

PORTAL = "https://portal.plant.example"


@pytest.fixture
def server(db: TestDb) -> Iterator[LiveServer]:
    settings = db.settings(
        allowed_origins=(PORTAL,), trusted_proxies=(ipaddress.ip_network("127.0.0.2/32"),), hsts_seconds=None
    )
    with serve(settings) as live:
        yield live


def hello(url: str, **options: object) -> dict[str, object]:
    with connect(url, open_timeout=10, **options) as ws:  # type: ignore[arg-type]
        message = json.loads(ws.recv(timeout=10))
        assert isinstance(message, dict)
        return message


def refused(url: str, **options: object) -> int:
    with pytest.raises(InvalidStatus) as caught:
        connect(url, open_timeout=10, **options).close()  # type: ignore[arg-type]
    return caught.value.response.status_code


@pytest.mark.parametrize(
    "path", ["/", "/api/series", "/api/series/nope/data", "/" + asset_urls()["app.js"], "/static/nope.js", "/healthz"]
)
def test_every_response_carries_the_security_headers(server: LiveServer, path: str) -> None:
    reply = request(server.port, path)
    assert reply.status in (200, 404)
    csp = reply.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["default-src"] == "'none'"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in reply.headers
    assert "server" not in reply.headers


def test_frame_ancestors_and_hsts_follow_the_settings(db: TestDb) -> None:
    settings = db.settings(frame_ancestors="'self' https://portal.plant.example", hsts_seconds=31536000)
    with serve(settings, wait_loaded=False) as live:
        reply = request(live.port, "/healthz")
    assert reply.headers["content-security-policy"].endswith("frame-ancestors 'self' https://portal.plant.example")
    # X-Frame-Options cannot name an origin: better none than one that contradicts the CSP.
    assert "x-frame-options" not in reply.headers
    assert reply.headers["strict-transport-security"] == "max-age=31536000"


def test_trailing_slash_redirect_never_takes_the_host_header(server: LiveServer) -> None:
    """Regression: ``GET /api/series/`` with ``Host: evil.example`` answered 307 to
    ``http://evil.example/api/series``, because Starlette's trailing-slash redirect builds an
    absolute URL from the Host header (open redirect, cache poisoning). Fix: redirect_slashes is
    off, so the path is a 404 like any unknown one, and the only redirect left (to the sign-in
    page) is relative."""
    reply = request(server.port, "/api/series/", headers={"Host": "evil.example"})
    assert reply.status == 404
    assert "location" not in reply.headers
    assert reply.json() == {"error": "Not Found"}


@pytest.mark.parametrize("size", [70_000, 1_000_000])
def test_a_long_request_line_gets_414_not_a_reset(server: LiveServer, size: int) -> None:
    """Regression: a request line over 64 KB got a connection reset. Cause: h11 refuses a head
    still incomplete beyond its buffer limit, uvicorn answered 400 and closed with the rest of
    the request unread, and closing with unread input makes the kernel reset the connection,
    destroying the answer. Fix: the front door answers 414 to targets over MAX_TARGET that
    arrive whole; the h11 protocol answers 414 to a head still in its request line beyond
    MAX_HEAD, then stops writing and drains the client's input before closing."""
    assert size > MAX_HEAD > MAX_TARGET
    response = raw_exchange(server.port, b"GET /" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 414 "), status_line
    assert b"request" in rest.partition(b"\r\n\r\n")[2]


def test_a_target_just_over_the_limit_is_414_and_just_under_is_served(server: LiveServer) -> None:
    query = "x" * (MAX_TARGET - len("/healthz?"))
    assert request(server.port, f"/healthz?{query}").status == 200
    reply = request(server.port, f"/healthz?{query}x")
    assert reply.status == 414
    assert reply.json()["parameter"] == "url"


def test_oversized_headers_get_431(server: LiveServer) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (2 * MAX_HEAD)
    response = raw_exchange(server.port, head + b"\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 431 ")


def test_websocket_from_a_foreign_origin_is_refused(server: LiveServer) -> None:
    assert refused(server.ws_url, origin="http://evil.example") == 403
    assert refused(server.ws_url, origin="null") == 403
    # Same host, other port or scheme: another origin all the same.
    assert refused(server.ws_url, origin=f"http://127.0.0.1:{server.port + 1}") == 403
    assert refused(server.ws_url, origin=f"https://127.0.0.1:{server.port}") == 403


def test_websocket_from_the_page_itself_an_allowed_origin_or_no_browser_is_accepted(server: LiveServer) -> None:
    assert hello(server.ws_url, origin=f"http://127.0.0.1:{server.port}")["type"] == "hello"
    assert hello(server.ws_url, origin=PORTAL)["type"] == "hello"
    assert hello(server.ws_url)["type"] == "hello"  # no Origin: not a browser


def test_forwarded_host_and_proto_count_only_from_a_trusted_proxy(server: LiveServer) -> None:
    forwarded = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "dash.plant.example",
        "Origin": "https://dash.plant.example",
    }
    post = {"method": "POST", "headers": forwarded, "body": b""}
    # From the proxy (127.0.0.2) the page's origin is https://dash.plant.example: the POST passes the door.
    assert request(server.port, "/api/series", source="127.0.0.2", **post).status == 405  # type: ignore[arg-type]
    # The same headers straight from a client are its own claims: refused.
    reply = request(server.port, "/api/series", source="127.0.0.1", **post)  # type: ignore[arg-type]
    assert reply.status == 403
    assert reply.json()["parameter"] == "Origin"


def test_cross_origin_form_posts_are_refused(server: LiveServer) -> None:
    reply = request(server.port, "/api/series", method="POST", headers={"Origin": "http://evil.example"})
    assert reply.status == 403
    assert reply.json() == {"error": "cross-origin request refused: this origin is not allowed", "parameter": "Origin"}
