"""A small synchronous WebSocket client that records what the server sends."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect


class Viewer:
    """One browser's view of the feed: rows per series, and every message."""

    def __init__(self, url: str, *, max_queue: int = 16) -> None:
        self.url = url
        self.messages: list[dict[str, Any]] = []
        self.rows: dict[str, list[tuple[float, float | None]]] = {}
        self.seq: dict[str, int] = {}
        self.since: dict[str, float] = {}
        # max_queue bounds what the library reads ahead for us; 1 makes a
        # viewer that stops calling pump() stop reading the socket too.
        self.conn: ClientConnection = connect(url, open_timeout=10, max_queue=max_queue, max_size=None)
        self.frames = 0

    def subscribe(self, since: Mapping[str, float] | None = None, seq: Mapping[str, int] | None = None) -> None:
        msg: dict[str, Any] = {"type": "subscribe"}
        if since is not None:
            msg["since"] = dict(since)
            self.since.update(since)
        if seq is not None:
            msg["seq"] = dict(seq)
        self.conn.send(json.dumps(msg))

    def subscribe_and_wait(
        self, since: Mapping[str, float], seq: Mapping[str, int] | None = None, timeout: float = 10.0
    ) -> None:
        """Subscribe, and return once the server has handled it.

        The server queues the replay of each series in ``since`` (or a
        ``resync`` naming it) in the same step that starts live delivery, so its
        arrival is the acknowledgement. With ``since`` at a series' newest row
        the replay is empty.
        """
        assert since, "the acknowledgement is the replay of a series in since"
        key = next(iter(since))
        mark = len(self.messages)
        self.subscribe(since, seq)

        def acknowledged(v: Viewer) -> bool:
            return any(
                (m["type"] == "append" and m["replay"] and m["series"] == key)
                or (m["type"] == "resync" and key in m["series"])
                for m in v.messages[mark:]
            )

        self.wait_for(acknowledged, timeout)

    def pump(self, seconds: float = 0.2, *, closing_ok: bool = False) -> None:
        """Read frames for ``seconds``; with ``closing_ok`` a closed connection just ends the read."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                raw = self.conn.recv(timeout=left)
            except TimeoutError:
                return
            except ConnectionClosed:
                if closing_ok:
                    return
                raise
            data = json.loads(raw)
            self.frames += 1
            # A frame holds one message, or an array of them (one frame per poll tick).
            for msg in data if isinstance(data, list) else [data]:
                self._handle(msg)

    def _handle(self, msg: dict[str, Any]) -> None:
        self.messages.append(msg)
        if msg["type"] == "append":
            key = msg["series"]
            rows = self.rows.setdefault(key, [])
            if msg["replay"]:
                # The contract: a replay replaces what the client holds after its `since`.
                rows[:] = [r for r in rows if r[0] <= self.since[key]]
            rows.extend(zip(msg["t"], msg["v"], strict=False))
            self.seq[key] = max(self.seq.get(key, 0), msg["seq"])

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"viewer did not see the expected data within {timeout}s: {self.messages[-5:]}")
            self.pump(0.1)

    def count(self, key: str) -> Counter[tuple[float, float | None]]:
        return Counter(self.rows.get(key, []))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    def last_time(self, key: str) -> float:
        return max(t for t, _ in self.rows[key])

    def closed(self) -> bool:
        return self.conn.protocol.state is State.CLOSED

    def close(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            self.conn.close()


class StalledViewer:
    """A browser that subscribes and then never reads again (until told to).

    A raw socket with a small receive buffer: unlike a client library, nothing
    reads ahead in the background, so the server's sends really do block.
    With ``since``, it subscribes from there and reads up to the server's
    acknowledgement (the replay), so it is known to be subscribed.
    """

    def __init__(self, host: str, port: int, *, since: dict[str, int] | None = None) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, port))
        self._buffer = bytearray()
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101"), response
        if since is None:
            self._send_text(json.dumps({"type": "subscribe"}))
            return
        self._send_text(json.dumps({"type": "subscribe", "since": since}))
        first = next(iter(since))
        deadline = time.monotonic() + 10
        while True:
            opcode, payload = self._frame(deadline)
            assert opcode != 0x8, f"closed before the subscription was acknowledged: {payload!r}"
            if opcode != 0x1:
                continue  # a ping
            msg = json.loads(payload)
            if msg["type"] == "append" and msg["replay"] and msg["series"] == first:
                return

    def _send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert len(payload) < 126
        self.sock.sendall(struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked)

    def _take(self, n: int, deadline: float) -> bytes:
        while len(self._buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the server sent no complete frame in time")
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the server closed the TCP connection without a close frame")
            self._buffer += chunk
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

    def _frame(self, deadline: float) -> tuple[int, bytes]:
        """One whole frame from the server (unmasked, unfragmented): opcode and payload."""
        b0, b1 = self._take(2, deadline)
        assert b0 & 0x80, "fragmented frames are not expected from this server"
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2, deadline))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8, deadline))
        return b0 & 0x0F, self._take(length, deadline)

    def read_until_close(self, timeout: float = 10.0) -> tuple[list[dict[str, Any]], int]:
        """Read on from where it stopped, up to the server's close frame: the messages before it, and its code."""
        deadline = time.monotonic() + timeout
        messages: list[dict[str, Any]] = []
        while True:
            opcode, payload = self._frame(deadline)
            if opcode == 0x8:
                (code,) = struct.unpack("!H", payload[:2])
                return messages, int(code)
            if opcode == 0x1:
                data = json.loads(payload)
                messages.extend(data if isinstance(data, list) else [data])

    def close(self) -> None:
        self.sock.close()
