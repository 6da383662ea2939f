"""Fan-out of live messages to WebSocket viewers: encoded once, the same bytes for all.

Messages published within a short window (the pollers of all tables wake on
the same clock tick) go out as one frame: a JSON array of messages, encoded
once, framed once, and written to every viewer's socket without awaiting any
of them (see :mod:`realtime.wsprotocol`). Where that direct channel is not
available the viewer falls back to an ASGI sender task with a queue.

Every viewer is bounded by bytes: what its socket (or queue) still holds.
A viewer that falls ``limit`` bytes behind is dropped ("overflow", closed
with 1013); one whose backlog has not moved for ``send_timeout`` seconds is
dropped as frozen (1008). Either way it reconnects and subscribes with
``since``, so it loses nothing, and no other viewer ever waits for it. The
database load does not depend on how many viewers there are.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal, Protocol

from realtime.messages import Message, encode, encode_many

__all__ = ["Channel", "Hub", "Viewer", "text_frame"]

DropReason = Literal["overflow", "frozen"]
# Messages published this close together share one frame.
COALESCE_S = 0.02


class Channel(Protocol):
    """A direct, synchronous way to a viewer's socket (see wsprotocol.DirectChannel)."""

    @property
    def open(self) -> bool: ...

    def write(self, frame: bytes) -> bool: ...

    def buffered(self) -> int: ...

    def abort(self) -> None: ...


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame (RFC 6455 5.2), as a server sends it: the same bytes for every viewer."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + payload


class Viewer:
    """One WebSocket viewer: where its frames go, and whether it keeps up."""

    def __init__(self, channel: Channel | None, limit: int) -> None:
        self.channel = channel
        self.limit = limit
        self.dropped: DropReason | None = None
        self.gone = asyncio.Event()
        # Fallback path: texts waiting for the sender task, and their size.
        self.queue: deque[str] = deque()
        self.queued_bytes = 0
        self.ready = asyncio.Event()
        self.sending_since: float | None = None
        # Frozen detection: the backlog and when it last went down.
        self._backlog = 0
        self._moved_at = time.monotonic()

    def send(self, text: str, frame: bytes | None = None) -> None:
        """Hand one text frame to the viewer; never waits. ``frame``: its encoded frame, if shared."""
        if self.dropped is not None:
            return
        if self.channel is not None:
            frame = frame if frame is not None else text_frame(text.encode())
            if self.channel.buffered() + len(frame) > self.limit:
                self.drop("overflow")
            else:
                self.channel.write(frame)
            return
        if self.queued_bytes + len(text) > self.limit:
            self.drop("overflow")
            return
        self.queue.append(text)
        self.queued_bytes += len(text)
        self.ready.set()

    def backlog(self) -> int:
        return self.channel.buffered() if self.channel is not None else self.queued_bytes

    def check(self, now: float, send_timeout: float) -> None:
        """Drop a viewer whose backlog has not gone down for ``send_timeout`` seconds."""
        backlog = self.backlog()
        stuck_send = self.sending_since is not None and now - self.sending_since > send_timeout
        if backlog == 0 or backlog < self._backlog:
            self._moved_at = now
        self._backlog = backlog
        if stuck_send or (backlog and now - self._moved_at > send_timeout):
            self.drop("frozen")

    def drop(self, reason: DropReason) -> None:
        if self.dropped is None:
            self.dropped = reason
            self.queue.clear()
            self.queued_bytes = 0
            self.gone.set()


class Hub:
    def __init__(self, limit_bytes: int, send_timeout: float) -> None:
        self.limit_bytes = limit_bytes
        self.send_timeout = send_timeout
        self.viewers: set[Viewer] = set()
        self.dropped: Counter[str] = Counter()
        self.frames = 0
        self._pending: list[Message] = []
        self._flush: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        """Viewers connected to this process."""
        return len(self.viewers)

    def publish(self, message: Message) -> None:
        """Queue a message for every viewer; it leaves with the others of this tick."""
        if not self.viewers:
            return
        self._pending.append(message)
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(COALESCE_S, self.flush)

    def flush(self) -> None:
        """Send what is pending now: one frame, encoded once, written to every viewer."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        pending, self._pending = self._pending, []
        if not pending or not self.viewers:
            return
        text = encode_many(pending)
        frame = text_frame(text.encode())
        self.frames += 1
        for viewer in self.viewers:
            viewer.send(text, frame)

    def unicast(self, viewer: Viewer, message: Message | str) -> None:
        """Send to one viewer, after everything already published (so order holds)."""
        self.flush()
        viewer.send(message if isinstance(message, str) else encode(message))

    def check(self) -> None:
        now = time.monotonic()
        for viewer in list(self.viewers):
            viewer.check(now, self.send_timeout)

    async def watch(self, every: float = 1.0) -> None:
        """Find frozen viewers; runs for the app's lifetime."""
        while True:
            await asyncio.sleep(every)
            self.check()

    @asynccontextmanager
    async def connect(self, channel: Channel | None) -> AsyncIterator[Viewer]:
        """A viewer for one WebSocket; it is always forgotten on the way out."""
        viewer = Viewer(channel, self.limit_bytes)
        self.viewers.add(viewer)
        try:
            yield viewer
        finally:
            self.viewers.discard(viewer)
            if viewer.dropped is not None:
                self.dropped[viewer.dropped] += 1
