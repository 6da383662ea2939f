"""Parsers for the settings that face the network, and the origin form they compare in.

Each parser takes ``(variable name, raw text)`` like those in ``config.py`` and
raises a one-line ``ConfigError`` naming the variable. Values that end up in
response headers (CSP sources) are checked strictly, so a setting can never
inject a header or a second policy.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

from realtime.errors import ConfigError
from realtime.htpasswd import read_users

__all__ = [
    "Network",
    "cidr_list",
    "frame_ancestors",
    "header_name",
    "normalize_origin",
    "origin_list",
    "secret_file",
    "users_file",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
# A CSP host-source without a path: [scheme://][*.]host[:port|:*], or a bare scheme-source.
_HOST_SOURCE = re.compile(r"^(https?://)?(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:(\d{1,5}|\*))?$")
_SCHEME_SOURCE = re.compile(r"^https?:$")
MIN_SECRET_BYTES = 32


def normalize_origin(text: str) -> str | None:
    """``scheme://host[:port]`` lowercased, without a default port; None if it is not such an origin."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None or parts.password is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _items(raw: str) -> list[str]:
    return [x for x in re.split(r"[\s,]+", raw) if x]


def cidr_list(name: str, raw: str) -> tuple[Network, ...]:
    networks = []
    for item in _items(raw):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not an IP address or CIDR range") from None
    return tuple(networks)


def origin_list(name: str, raw: str) -> tuple[str, ...]:
    origins = []
    for item in _items(raw):
        origin = normalize_origin(item)
        if origin is None:
            raise ConfigError(f"{name}: {item!r} is not an origin like https://portal.example:8443")
        origins.append(origin)
    return tuple(origins)


def frame_ancestors(name: str, raw: str) -> str:
    """A CSP ``frame-ancestors`` source list: ``'none'``, ``'self'``, schemes or hosts (no paths)."""
    sources = raw.split()
    for source in sources:
        lowered = source.lower()
        if lowered in ("'none'", "'self'") or _SCHEME_SOURCE.match(lowered) or _HOST_SOURCE.match(lowered):
            continue
        raise ConfigError(
            f"{name}: {source!r} is not a frame-ancestors source ('none', 'self', https:, or a host like "
            "https://portal.example)"
        )
    if "'none'" in (s.lower() for s in sources) and len(sources) > 1:
        raise ConfigError(f"{name}: 'none' cannot be combined with other sources")
    return " ".join(sources)


def header_name(name: str, raw: str) -> str:
    if not _TOKEN.match(raw):
        raise ConfigError(f"{name}: {raw!r} is not an HTTP header name")
    return raw.lower()


def secret_file(name: str, raw: str) -> bytes:
    """The file's contents (surrounding whitespace dropped), at least 32 bytes; never echoed."""
    try:
        secret = Path(raw).read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"{name} {raw!r} cannot be read: {exc.strerror or exc}") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{name} {raw!r} holds {len(secret)} bytes; use at least {MIN_SECRET_BYTES} random bytes "
            "(e.g. openssl rand -hex 32)"
        )
    return secret


def users_file(name: str, raw: str) -> Path:
    read_users(Path(raw), name)  # fail fast; the app re-reads the file when it changes
    return Path(raw)
