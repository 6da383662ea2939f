"""A lean WebSocket viewer for the reconnect storm: every byte read, as little work per byte as will do.

A thousand viewers of the `websockets` library spent three times the server's
CPU reading their replays (copying each frame through its stream reader and
assembler), on the same two cores as the server. This one reads straight into
one buffer shared by a process's viewers (asyncio.BufferedProtocol), walks
the frame headers (RFC 6455 5.2: the server sends whole, unmasked frames) and
counts replay messages in each text frame, across reads, without copying it.
The first viewer of a worker keeps its replays whole and parses them, so what
arrives is checked too. It answers pings, and closes with 1000.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
from collections.abc import Callable
from urllib.parse import urlsplit

import orjson

__all__ = ["LeanViewer", "open_viewer"]

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_REPLAY = b'"replay":true'
# A shared read buffer: asyncio fills it and hands it to one protocol at a time, which is done with it on return.
_BUFFER = bytearray(256 * 1024)
_TEXT, _CLOSE, _PING = 0x1, 0x8, 0x9


def _masked(opcode: int, payload: bytes) -> bytes:
    """A client's frame: FIN, ``opcode``, masked (a client must mask, RFC 6455 5.3)."""
    n = len(payload)
    assert n < 1 << 16, "a viewer sends only subscribes, pongs and its close"
    head = struct.pack("!BB", 0x80 | opcode, 0x80 | n) if n < 126 else struct.pack("!BBH", 0x80 | opcode, 0xFE, n)
    mask = os.urandom(4)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return head + mask + (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


class LeanViewer(asyncio.BufferedProtocol):
    """One viewer: its handshake, then ``on_replays(k)`` for each text frame holding k replays."""

    def __init__(self, host: str, path: str, on_replays: Callable[[int], None], *, keep: bool = False) -> None:
        self.key = base64.b64encode(os.urandom(16))
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self.key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.on_replays = on_replays
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.head = b""  # the HTTP response head, then a frame header split across reads
        self.upgraded = False
        self.left = 0  # payload bytes of the current frame still to come
        self.opcode = 0
        self.hits = 0
        self.tail = b""  # the end of the previous read of this frame: a marker may straddle two reads
        # The first viewer's replays, parsed: rows per series.
        self.keep = keep
        self.payload = bytearray()
        self.rows: dict[str, int] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)

    def get_buffer(self, sizehint: int) -> bytearray:
        return _BUFFER

    def buffer_updated(self, nbytes: int) -> None:
        if self.upgraded:
            self._frames(_BUFFER, 0, nbytes)
            return
        self.head += _BUFFER[:nbytes]
        end = self.head.find(b"\r\n\r\n")
        if end >= 0:
            head, rest, self.head = self.head[:end], self.head[end + 4 :], b""
            if self._upgrade(head):
                self._frames(rest, 0, len(rest))

    def _upgrade(self, head: bytes) -> bool:
        lines = head.split(b"\r\n")
        accept = base64.b64encode(hashlib.sha1(self.key + _GUID).digest())
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines[1:])}
        if not lines[0].startswith(b"HTTP/1.1 101") or headers.get(b"sec-websocket-accept") != accept:
            self.opened.set_exception(ConnectionError(f"handshake refused: {lines[0].decode(errors='replace')}"))
            assert self.transport is not None
            self.transport.abort()
            return False
        self.upgraded = True
        self.opened.set_result(None)
        return True

    def _frames(self, buf: bytes | bytearray, i: int, n: int) -> None:
        """Walk ``buf[i:n]``: frame headers (kept in ``head`` while split across reads) and payloads."""
        while i < n:
            if self.left:
                j = min(n, i + self.left)
                self._payload(buf, i, j)
                self.left -= j - i
                i = j
                if not self.left:
                    self._frame_done()
                continue
            # 2 bytes, then 2 or 8 more of length (a server's frames carry no mask).
            need = 2 if len(self.head) < 2 else {126: 4, 127: 10}.get(self.head[1] & 0x7F, 2)
            take = min(n - i, need - len(self.head))
            self.head += buf[i : i + take]
            i += take
            if len(self.head) < need or (need == 2 and self.head[1] & 0x7F >= 126):
                continue
            self._start(self.head)
            self.head = b""

    def _start(self, head: bytes) -> None:
        self.opcode = head[0] & 0x0F
        length = head[1] & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", head[2:4])
        elif length == 127:
            (length,) = struct.unpack("!Q", head[2:10])
        self.left, self.hits, self.tail = length, 0, b""
        if not length:
            self._frame_done()

    def _payload(self, buf: bytes | bytearray, i: int, j: int) -> None:
        if self.opcode == _TEXT:
            m = len(_REPLAY) - 1
            # Markers inside this read, and one straddling the previous read's end and this one's start.
            self.hits += buf.count(_REPLAY, i, j) + (self.tail + buf[i : min(j, i + m)]).count(_REPLAY)
            self.tail = (self.tail + buf[max(i, j - m) : j])[-m:]
        if self.keep or self.opcode != _TEXT:
            self.payload += buf[i:j]

    def _frame_done(self) -> None:
        assert self.transport is not None
        payload, self.payload = bytes(self.payload), bytearray()
        if self.opcode == _PING:
            self.transport.write(_masked(0xA, payload))
        elif self.opcode == _CLOSE:
            self.transport.close()
        elif self.opcode == _TEXT and self.hits:
            if self.keep:
                data = orjson.loads(payload)
                for msg in data if isinstance(data, list) else [data]:
                    if msg["type"] == "append" and msg["replay"]:
                        self.rows[msg["series"]] = len(msg["t"])
            self.on_replays(self.hits)

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(_masked(_TEXT, text.encode()))

    async def close(self) -> None:
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.write(_masked(_CLOSE, struct.pack("!H", 1000)))
            self.transport.close()
        await self.closed


async def open_viewer(url: str, on_replays: Callable[[int], None], *, keep: bool = False) -> LeanViewer:
    """Connect and complete the handshake."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    _, viewer = await loop.create_connection(
        lambda: LeanViewer(f"{host}:{port}", parts.path or "/", on_replays, keep=keep), host, port
    )
    await viewer.opened
    return viewer
