"""What every answer to any input must be (#9), for the fuzz tests.

Never a 5xx. Every 4xx is JSON matching the error schema, with a short
message, and names what is at fault: the query parameter for a 400, the
series for a 404 of the API, ``url`` for a 414. Every 200 of a JSON route
matches its schema, and a window never ends before it starts.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import socket
import struct
from collections.abc import Collection, Iterator
from typing import Any

from hypothesis import HealthCheck, settings

from tests.support.contract import quick_check

__all__ = ["ERROR_MAX", "FUZZ", "ROUTES", "assert_sound", "send_invalid_utf8", "server_errors"]

# Longest error message: a parameter's value is echoed to 40 characters at most.
ERROR_MAX = 200
# Deterministic (the same inputs on every run) and quiet; no example database on disk.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Route template → the schema of its 200 answer (None: not JSON).
ROUTES: dict[str, str | None] = {
    "/": None,
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/openapi.json": None,
    "/metrics": None,
    "/api/series": "series-list",
    "/api/series/{key}/data": "series-data",
    "/api/series/{key}/stats": "series-stats",
    "/api/data": "series-data-batch",
    "/api/export.csv": None,
    "/static/{path}": None,
    "/no/route": None,
}


def assert_sound(route: str, status: int, content_type: str, body: bytes, given: Collection[str]) -> None:
    """``given``: the query parameters sent; ``route``: the route template that was asked."""
    shown = body[:300]
    assert status < 500, f"{status} from {route}: {shown!r}"
    if status >= 400:
        assert content_type.startswith("application/json"), f"{status} from {route} is not JSON: {shown!r}"
        error = json.loads(body)
        quick_check("error", error)
        assert len(error["error"]) <= ERROR_MAX, f"an unbounded message: {shown!r}"
        parameter = error.get("parameter")
        if status == 400:
            assert parameter in given, f"400 from {route} names {parameter!r}, not one of {sorted(given)}"
        elif status == 404 and route.startswith("/api/series/"):
            assert parameter == "key", shown
        elif status == 404 and route in ("/api/export.csv", "/api/data"):
            assert parameter == "series", shown
        elif status == 414:
            assert parameter == "url", shown
        return
    assert status in (200, 303), f"{status} from {route}: {shown!r}"
    name = ROUTES[route]
    if name is not None:
        answer = json.loads(body)
        quick_check(name, answer)
        for window in answer["series"].values() if route == "/api/data" else [answer]:
            _window(window)
    elif route == "/api/export.csv" and status == 200:
        assert content_type.startswith("text/csv"), content_type
        head = body.split(b"\r\n", 1)[0]
        assert head.startswith((b"time,", b"series,time,value")), shown
    elif route == "/metrics":
        assert content_type.startswith("text/plain"), content_type
        assert b"# TYPE " in body, shown


def _window(answer: Any) -> None:
    if not isinstance(answer, dict) or "start" not in answer:
        return
    if answer["start"] is not None:
        assert answer["start"] <= answer["end"], f"a window that ends before it starts: {answer}"
    if "t" in answer:
        assert len(answer["t"]) == len(answer["v"])
        assert answer["t"] == sorted(answer["t"])
        if answer["t"] and answer["start"] is not None:
            assert answer["start"] <= answer["t"][0]
            assert answer["t"][-1] < answer["end"] + 1


class _Records(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def server_errors(level: int = logging.ERROR) -> Iterator[list[logging.LogRecord]]:
    """Every record at ``level`` or above that the app or uvicorn logs meanwhile (a crash logs an ERROR)."""
    handler = _Records(level)
    # uvicorn's loggers do not propagate to the root.
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def send_invalid_utf8(port: int) -> int:
    """Open /ws with a raw socket, send a text frame that is not UTF-8, return the server's close code.

    Raw, because client libraries refuse to send one.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(4096)
        assert received.startswith(b"HTTP/1.1 101"), received[:100]
        payload, mask = b'{"type":"\xff\xfe"}', os.urandom(4)
        sock.sendall(
            struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        )
        received = received.partition(b"\r\n\r\n")[2]
        # Server frames (unmasked, uncompressed: no extension was offered) until the close.
        while True:
            while len(received) < _frame_size(received):
                chunk = sock.recv(65536)
                assert chunk, "closed without a close frame"
                received += chunk
            size = _frame_size(received)
            frame, received = received[:size], received[size:]
            if frame[0] & 0x0F == 0x8:
                code: int = struct.unpack("!H", frame[2:4])[0]
                return code


def _frame_size(data: bytes) -> int:
    """The length of the server frame at the start of ``data``; more than it holds while its head is partial."""
    if len(data) < 2:
        return 2
    length = data[1] & 0x7F
    if length == 126:
        return 4 + int(struct.unpack("!H", data[2:4])[0]) if len(data) >= 4 else 4
    if length == 127:
        return 10 + int(struct.unpack("!Q", data[2:10])[0]) if len(data) >= 10 else 10
    return 2 + length
