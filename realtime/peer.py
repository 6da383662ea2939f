"""Who connected, as seen through trusted reverse proxies: client address, scheme, host and origin.

``X-Forwarded-For``, ``-Proto`` and ``-Host`` are believed only when the
connection comes from ``TRUSTED_PROXIES``; from anyone else they are ignored,
so a client cannot pick the address its failed sign-ins count against, nor the
origin its WebSocket is compared with. Of ``X-Forwarded-For`` the rightmost
address that is not itself a trusted proxy is the client (the ones to its left
are the client's own claims). Of ``-Proto`` and ``-Host`` the rightmost value
is the nearest proxy's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from realtime.netparse import Network, normalize_origin

__all__ = ["PEER_KEY", "Peer", "header", "is_loopback", "peer_of", "resolve"]

PEER_KEY = "realtime.peer"  # where the front door leaves the resolved peer in the ASGI scope
_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


@dataclass(frozen=True)
class Peer:
    client: str  # the address failed sign-ins count against and the access log names
    scheme: str  # http or https, as the browser used it
    host: str | None  # the Host the browser used, host[:port]
    proxied: bool  # the connection came from a trusted proxy

    @property
    def origin(self) -> str | None:
        """The page's own origin, which the browser sends as ``Origin`` from it."""
        return normalize_origin(f"{self.scheme}://{self.host}") if self.host else None

    @property
    def secure(self) -> bool:
        return self.scheme == "https"


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The last value of a header (latin-1, as HTTP defines it), or None."""
    found = None
    for key, value in headers:
        if key == name:
            found = value.decode("latin-1")
    return found


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in net for net in networks)


def is_loopback(host: str | None) -> bool:
    """A Host on this machine (browsers treat http://localhost as a secure context)."""
    if not host:
        return False
    try:
        name = urlsplit("//" + host).hostname or ""
    except ValueError:
        return False
    if name.lower() in ("localhost", "localhost."):
        return True
    ip = _address(name)
    return ip is not None and ip.is_loopback


def resolve(scope: Mapping[str, Any], trusted: Sequence[Network]) -> Peer:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    direct = scope.get("client")
    address = str(direct[0]) if direct else "-"
    scheme = _SCHEMES.get(scope.get("scheme", "http"), "http")
    host = header(headers, b"host")
    if not trusted or not _trusted(address, trusted):
        return Peer(address, scheme, host, proxied=False)
    forwarded_for = [a.strip() for a in (header(headers, b"x-forwarded-for") or "").split(",") if a.strip()]
    client = address
    for hop in reversed(forwarded_for):
        if _address(hop) is None:
            break  # garbage: trust nothing further left
        client = hop.strip("[]")
        if not _trusted(hop, trusted):
            break
    proto = (header(headers, b"x-forwarded-proto") or "").split(",")[-1].strip().lower()
    forwarded_host = (header(headers, b"x-forwarded-host") or "").split(",")[-1].strip()
    return Peer(client, _SCHEMES.get(proto, scheme), forwarded_host or host, proxied=True)


def peer_of(scope: Mapping[str, Any]) -> Peer:
    """The peer the front door resolved for this request (resolved afresh, untrusted, without one)."""
    found = scope.get(PEER_KEY)
    return found if isinstance(found, Peer) else resolve(scope, ())
