"""The network-facing settings: proxies, origins, frame ancestors, header names, secrets."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from realtime.config import ConfigError, load_settings
from realtime.netparse import normalize_origin

PG = {"POSTGRES_HOST": "db", "POSTGRES_PORT": "5432", "POSTGRES_USER": "u", "POSTGRES_DB": "d"}


@pytest.mark.parametrize(
    ("text", "origin"),
    [
        ("http://127.0.0.1:8888", "http://127.0.0.1:8888"),
        ("HTTPS://Dash.Example:443", "https://dash.example"),
        ("http://[::1]:80", "http://[::1]"),
        ("https://dash.example/", "https://dash.example"),
        ("http://evil.example/path", None),
        ("null", None),
        ("ws://dash.example", None),
        ("http://user@dash.example", None),
        ("http://dash.example:99999", None),
    ],
)
def test_origins_compare_in_one_normal_form(text: str, origin: str | None) -> None:
    assert normalize_origin(text) == origin


def test_defaults_are_open_and_strict() -> None:
    s = load_settings(PG)
    assert not s.auth_required
    assert s.trusted_proxies == ()
    assert s.allowed_origins == ()
    assert s.frame_ancestors == "'none'"
    assert s.hsts_seconds is None
    assert s.session_secret is None


def test_values_are_parsed() -> None:
    s = load_settings(
        {
            **PG,
            "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.5 ::1",
            "ALLOWED_ORIGINS": "https://Portal.Plant.example:443,http://scada:8080",
            "FRAME_ANCESTORS": "'self' https://portal.plant.example",
            "AUTH_PROXY_HEADER": "X-Forwarded-User",
            "HSTS_SECONDS": "31536000",
        }
    )
    assert s.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.5/32"),
        ipaddress.ip_network("::1/128"),
    )
    assert s.allowed_origins == ("https://portal.plant.example", "http://scada:8080")
    assert s.frame_ancestors == "'self' https://portal.plant.example"
    assert s.auth_proxy_header == "x-forwarded-user"
    assert s.auth_required


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES: '10.0.0.0/33'"),
        ({"ALLOWED_ORIGINS": "portal.example"}, "ALLOWED_ORIGINS: 'portal.example'"),
        ({"FRAME_ANCESTORS": "'none'; script-src *"}, "FRAME_ANCESTORS"),
        ({"FRAME_ANCESTORS": "'none' 'self'"}, "cannot be combined"),
        ({"FRAME_ANCESTORS": "https://a.example/path"}, "FRAME_ANCESTORS"),
        ({"AUTH_PROXY_HEADER": "X User"}, "AUTH_PROXY_HEADER"),
        ({"AUTH_PROXY_HEADER": "X-Forwarded-User"}, "AUTH_PROXY_HEADER needs TRUSTED_PROXIES"),
        ({"HSTS_SECONDS": "-1"}, "HSTS_SECONDS"),
        ({"SESSION_LIFETIME": "5"}, "SESSION_LIFETIME"),
        ({"SESSION_SECRET_FILE": "/nonexistent/secret"}, "SESSION_SECRET_FILE"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_settings({**PG, **env})


def test_the_session_secret_is_read_from_a_file_and_never_shown(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("too short\n")
    with pytest.raises(ConfigError) as caught:
        load_settings({**PG, "SESSION_SECRET_FILE": str(path)})
    assert "too short" not in str(caught.value)
    secret = "0123456789abcdef" * 4
    path.write_text(secret + "\n")
    s = load_settings({**PG, "SESSION_SECRET_FILE": str(path)})
    assert s.session_secret == secret.encode()
    assert secret not in repr(s)
