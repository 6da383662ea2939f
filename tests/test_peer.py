"""Client address, scheme and origin, with forwarded headers believed only from trusted proxies."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from realtime.accesslog import UserFilter, current_user, safe
from realtime.peer import is_loopback, resolve

PROXY = (ipaddress.ip_network("10.0.0.0/24"),)


def scope(client: str, headers: dict[str, str], scheme: str = "http") -> dict[str, Any]:
    return {
        "client": (client, 5000),
        "scheme": scheme,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


def test_direct_clients_are_taken_as_they_connect() -> None:
    s = scope("192.0.2.7", {"host": "dash:8888", "x-forwarded-for": "1.2.3.4", "x-forwarded-proto": "https"})
    peer = resolve(s, PROXY)
    assert (peer.client, peer.scheme, peer.host, peer.proxied) == ("192.0.2.7", "http", "dash:8888", False)
    assert peer.origin == "http://dash:8888"
    assert resolve(scope("::1", {}, scheme="ws"), ()).origin is None


def test_a_trusted_proxy_names_the_client_scheme_and_host() -> None:
    headers = {
        "host": "app:8888",
        "x-forwarded-for": "6.6.6.6, 192.0.2.7, 10.0.0.9",  # the client's own claim, the client, an inner proxy
        "x-forwarded-proto": "https",
        "x-forwarded-host": "dash.plant.example",
    }
    peer = resolve(scope("10.0.0.5", headers, scheme="ws"), PROXY)
    assert (peer.client, peer.scheme, peer.proxied) == ("192.0.2.7", "https", True)
    assert peer.origin == "https://dash.plant.example"
    # Without forwarded headers the proxy itself is the client.
    assert resolve(scope("10.0.0.5", {"host": "app"}), PROXY).client == "10.0.0.5"


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1:8888")
    assert is_loopback("[::1]:80")
    assert is_loopback("localhost")
    assert not is_loopback("dash.plant.example")
    assert not is_loopback("10.0.0.1:8888")
    assert not is_loopback(None)


def test_log_lines_written_while_serving_a_user_name_them() -> None:
    record = logging.LogRecord("realtime.views.export", logging.INFO, __file__, 1, "export", None, None)
    token = current_user.set("alice")
    try:
        UserFilter().filter(record)
    finally:
        current_user.reset(token)
    assert getattr(record, "user_suffix") == " user=alice"  # noqa: B009 (set by the filter)
    UserFilter().filter(record)
    assert getattr(record, "user_suffix") == ""  # noqa: B009


def test_logged_text_cannot_forge_lines() -> None:
    assert safe("/a\nINFO fake line") == "/a\\nINFO%20fake%20line"
    assert safe("/x" * 1000).endswith("…")
