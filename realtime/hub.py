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
import logging
import struct
import time
import zlib
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal, Protocol

from realtime.messages import Message, encode, encode_many

__all__ = ["CLOSE_CODES", "Channel", "DropReason", "Hub", "Outgoing", "Viewer", "text_frame"]

log = logging.getLogger(__name__)

DropReason = Literal["overflow", "frozen"]
# Messages published this close together share one frame, at most: the frame leaves as
# soon as every poller has finished its round of the tick (see Hub.round_done).
COALESCE_S = 0.1


# Frames this large are compressed (once, for every viewer that negotiated permessage-deflate);
# smaller ones cost more to compress than they save.
COMPRESS_MIN = 4096
_CLOSE_WAIT_S = 2.0
CLOSE_CODES = {"frozen": (1008, "too slow: not reading"), "overflow": (1013, "too far behind; reconnect")}


class Channel(Protocol):
    """A direct, synchronous way to a viewer's socket (see wsprotocol.DirectChannel)."""

    @property
    def deflate_bits(self) -> int | None: ...

    def write(self, frame: bytes) -> bool: ...

    def buffered(self) -> int: ...

    def close(self, code: int, reason: str, wait: float) -> None: ...


def text_frame(payload: bytes, *, compressed: bool = False) -> bytes:
    """One final, unmasked text frame (RFC 6455 5.2), as a server sends it: the same bytes for every viewer."""
    first = 0xC1 if compressed else 0x81  # FIN, RSV1 (compressed), text
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload


class Outgoing:
    """One message frame's text, and its encodings, each made once whatever the number of viewers."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode()
        self._plain: bytes | None = None
        self._deflated: dict[int, bytes] = {}

    def frame(self, deflate_bits: int | None) -> bytes:
        if deflate_bits is not None and len(self.data) >= COMPRESS_MIN:
            frame = self._deflated.get(deflate_bits)
            if frame is None:
                # A fresh raw-deflate context per message, as negotiated (no context takeover).
                z = zlib.compressobj(6, zlib.DEFLATED, -deflate_bits, 5)
                body = z.compress(self.data) + z.flush(zlib.Z_SYNC_FLUSH)
                frame = self._deflated[deflate_bits] = text_frame(body[:-4], compressed=True)
            return frame
        if self._plain is None:
            self._plain = text_frame(self.data)
        return self._plain

    @property
    def size(self) -> int:
        return len(self.data)


class Viewer:
    """One WebSocket viewer: where its frames go, and whether it keeps up."""

    def __init__(self, channel: Channel | None, limit: int, client: str = "") -> None:
        self.channel = channel
        self.limit = limit
        self.client = client
        self.dropped: DropReason | None = None
        # Fallback path only (no direct channel): texts for the sender task, their size, and
        # events made on first use (each is most of a kilobyte, times thousands of viewers).
        self.queue: deque[str] = deque()
        self.queued_bytes = 0
        self._ready: asyncio.Event | None = None
        self._gone: asyncio.Event | None = None
        self.sending_since: float | None = None
        # Frozen detection: the backlog and when it last went down.
        self._backlog = 0
        self._moved_at = time.monotonic()

    def send(self, out: Outgoing) -> None:
        """Hand one frame to the viewer; never waits."""
        if self.dropped is not None:
            return
        # The limit is on the backlog already there: one large frame (a replay) to a viewer
        # that keeps up is fine; a viewer that is this far behind is not.
        if self.channel is not None:
            if self.channel.buffered() > self.limit:
                self.drop("overflow")
            else:
                self.channel.write(out.frame(self.channel.deflate_bits))
            return
        if self.queued_bytes > self.limit:
            self.drop("overflow")
            return
        self.queue.append(out.text)
        self.queued_bytes += out.size
        self.ready.set()

    @property
    def ready(self) -> asyncio.Event:
        """Set while the fallback queue holds something."""
        if self._ready is None:
            self._ready = asyncio.Event()
        return self._ready

    @property
    def gone(self) -> asyncio.Event:
        """Set once the viewer is dropped."""
        if self._gone is None:
            self._gone = asyncio.Event()
            if self.dropped is not None:
                self._gone.set()
        return self._gone

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
        """Stop sending to this viewer and close it, saying why (the socket is aborted if it will not drain)."""
        if self.dropped is None:
            self.dropped = reason
            self.queue.clear()
            self.queued_bytes = 0
            if self._gone is not None:
                self._gone.set()
            if self.channel is not None:
                self.channel.close(*CLOSE_CODES[reason], wait=_CLOSE_WAIT_S)


class Hub:
    def __init__(self, limit_bytes: int, send_timeout: float) -> None:
        self.limit_bytes = limit_bytes
        self.send_timeout = send_timeout
        self.viewers: set[Viewer] = set()
        self.dropped: Counter[str] = Counter()
        self.frames = 0
        # Viewers per client address, for the per-client cap.
        self.per_client: Counter[str] = Counter()
        self._pending: list[Message] = []
        self._flush: asyncio.TimerHandle | None = None
        # Poll rounds per tick (one per table), and how many of this tick's have finished.
        self.rounds_per_tick = 1
        self._rounds = 0

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

    def round_done(self) -> None:
        """A poller finished its round: once all of this tick's have, the frame leaves."""
        self._rounds += 1
        if self._rounds >= self.rounds_per_tick:
            self._rounds = 0
            if self._pending:
                self.flush()

    def flush(self) -> None:
        """Send what is pending now: one frame, encoded once, written to every viewer."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        pending, self._pending = self._pending, []
        if not pending or not self.viewers:
            return
        out = Outgoing(encode_many(pending))
        self.frames += 1
        for viewer in self.viewers:
            viewer.send(out)

    def unicast(self, viewer: Viewer, message: Message | Outgoing) -> None:
        """Send to one viewer, after everything already published (so order holds)."""
        self.flush()
        viewer.send(message if isinstance(message, Outgoing) else Outgoing(encode(message)))

    def check(self) -> None:
        now = time.monotonic()
        for viewer in list(self.viewers):
            viewer.check(now, self.send_timeout)

    async def watch(self, every: float = 1.0) -> None:
        """Find frozen viewers; runs for the app's lifetime."""
        while True:
            await asyncio.sleep(every)
            self.check()

    def attach(self, channel: Channel | None, client: str = "") -> Viewer:
        """A viewer for one WebSocket from ``client``; pair with :meth:`detach` in a ``finally``."""
        viewer = Viewer(channel, self.limit_bytes, client)
        self.viewers.add(viewer)
        self.per_client[client] += 1
        return viewer

    def detach(self, viewer: Viewer) -> None:
        """Called from the viewer's own connection, so the drop's line carries its request id and user."""
        if viewer in self.viewers:
            self.viewers.discard(viewer)
            self.per_client[viewer.client] -= 1
            if not self.per_client[viewer.client]:
                del self.per_client[viewer.client]
        if viewer.dropped is not None:
            self.dropped[viewer.dropped] += 1
            log.warning(
                "dropped a viewer (%s): %s",
                viewer.dropped,
                CLOSE_CODES[viewer.dropped][1],
                extra={"reason": viewer.dropped},
            )

    @asynccontextmanager
    async def connect(self, channel: Channel | None) -> AsyncIterator[Viewer]:
        """:meth:`attach` and :meth:`detach` around a block."""
        viewer = self.attach(channel)
        try:
            yield viewer
        finally:
            self.detach(viewer)
