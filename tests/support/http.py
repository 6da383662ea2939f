"""Plain HTTP against a live server: any header (Host and Origin included), any source address."""

from __future__ import annotations

import base64
import http.client
import json
import socket
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # lowercase names; the last of repeated headers
    body: bytes
    cookies: list[str] = field(default_factory=list)  # raw Set-Cookie values

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def request(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    source: str = "127.0.0.1",
) -> Reply:
    """One request from ``source`` (any 127.0.0.0/8 address is this machine) to 127.0.0.1:``port``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return Reply(
            status=res.status,
            headers={k.lower(): v for k, v in res.getheaders()},
            body=res.read(),
            cookies=res.headers.get_all("set-cookie") or [],
        )
    finally:
        conn.close()


def raw_exchange(port: int, data: bytes) -> bytes:
    """Sends raw bytes, returns the whole first response (head and Content-Length body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while True:
            head, sep, rest = received.partition(b"\r\n\r\n")
            if sep:
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                if len(rest) >= length:
                    return received
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
