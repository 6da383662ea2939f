"""uvicorn's WebSocket protocol, with a direct channel to the socket for the hub.

Fan-out sends the same bytes to every viewer. Through ASGI, each send costs a
task wake-up, an await on flow control and the protocol's own frame
encoding, per viewer. This protocol adds an ASGI extension,
``realtime.direct``, whose channel lets the hub write one pre-encoded frame
to each socket without awaiting anything, see how much is still buffered
for a viewer, and abort a socket that will never drain (``transport.close()``
waits for the buffer to flush, so a frozen viewer would otherwise hold its
descriptor and kernel buffers for as long as it stays connected).

Frames written here are whole unfragmented frames, written between the
protocol's own whole frames (pings, close), and never after a close has
been sent. permessage-deflate is negotiated without context takeover in
either direction, so a frame compressed once is valid for every viewer that
negotiated it, and no viewer keeps compressor state between messages. Without this protocol (another server, a test client) the hub
falls back to plain ASGI sends.
"""

from __future__ import annotations

import logging
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.http11 import Request
from websockets.server import ServerProtocol

__all__ = ["EXTENSION", "DirectChannel", "DirectWriteProtocol"]

EXTENSION = "realtime.direct"


class DirectChannel:
    """Write, measure, close and abort one viewer's socket, synchronously."""

    def __init__(self, protocol: DirectWriteProtocol) -> None:
        self._protocol = protocol

    @property
    def deflate_bits(self) -> int | None:
        """The window this viewer accepts compressed frames with, if it negotiated permessage-deflate."""
        for ext in self._protocol.conn.extensions:
            if isinstance(ext, PerMessageDeflate):
                return ext.local_max_window_bits
        return None

    def write(self, frame: bytes) -> bool:
        """Queue a whole frame on the socket; False once the connection is closing."""
        p = self._protocol
        if p.close_sent or p.disconnected or p.transport.is_closing():
            return False
        self._protocol.transport.write(frame)
        return True

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        return self._protocol.transport.get_write_buffer_size()

    def abort(self) -> None:
        """Drop the connection now, discarding what is buffered."""
        self._protocol.transport.abort()

    def close(self, code: int, reason: str, wait: float) -> None:
        """Send a close frame now, and abort the socket if it has not drained ``wait`` seconds later.

        The viewer's handler sees the disconnect at once and ends.
        """
        p = self._protocol
        if p.close_sent or p.disconnected:
            return
        p.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        if not p.transport.is_closing():
            p.conn.send_close(code, reason)
            p.transport.write(b"".join(p.conn.data_to_send()))
        p.close_sent = True
        p.stop_keepalive()
        p.close_timer = p.loop.call_later(wait, self._finish, wait, p.transport.get_write_buffer_size(), 10)

    def _finish(self, wait: float, backlog: int, chances: int) -> None:
        # Closed cleanly once the buffer drained. A viewer still draining gets more time (a few
        # times over); a frozen socket never drains, so it is aborted, freeing its buffers.
        p = self._protocol
        p.close_timer = None
        left = p.transport.get_write_buffer_size()
        if not left:
            p.transport.close()
        elif left < backlog and chances > 0:
            p.close_timer = p.loop.call_later(wait, self._finish, wait, left, chances - 1)
        else:
            p.transport.abort()


class DirectWriteProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # permessage-deflate without context takeover either way: every message is compressed on
        # its own, so the hub can compress a frame once and write the same bytes to every viewer
        # (the protocol's own messages reset their context too), and no viewer keeps zlib state.
        extensions = []
        if self.config.ws_per_message_deflate:
            extensions = [
                ServerPerMessageDeflateFactory(
                    server_no_context_takeover=True,
                    client_no_context_takeover=True,
                    compress_settings={"memLevel": 5},
                )
            ]
        self.conn = ServerProtocol(
            extensions=extensions, max_size=self.config.ws_max_size, logger=logging.getLogger("uvicorn.error")
        )

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            self.response = None  # type: ignore[assignment]  # sent; not needed for the connection's life
        elif message["type"] == "websocket.http.response.body" and not message.get("more_body", False):
            # A refusal (e.g. 503, too many viewers) is a complete answer: without this,
            # uvicorn logs "returned without completing handshake" at ERROR for each one.
            self.handshake_complete = True

    def send_receive_event_to_app(self) -> None:
        # Invalid UTF-8 in a text message: close with 1007 as uvicorn does, but log one warning
        # line, not uvicorn's traceback at ERROR, which any client could produce at will.
        if self.curr_msg_data_type == "text" and not self.close_sent:
            try:
                b"".join(self.frames).decode()
            except UnicodeDecodeError:
                self.frames = []
                self.logger.warning("closed a WebSocket (1007): a text message that is not UTF-8")
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        super().send_receive_event_to_app()

    def shutdown(self) -> None:
        """Server shutdown: close open viewers with 1001 (going away), not uvicorn's 1012 (restart)."""
        if self.handshake_complete and not self.close_sent and self.initial_response is None:
            self.stop_keepalive()
            self.queue.put_nowait({"type": "websocket.disconnect", "code": 1001})
            self.conn.send_close(1001, "server shutting down")
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
            self.transport.close()
            return
        super().shutdown()

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # Never read again (the scope holds the headers): a kilobyte per viewer.
        self.request = None  # type: ignore[assignment]
        scope: Any = getattr(self, "scope", None)
        # The ASGI task is created but has not run yet: the scope can still gain the extension.
        if scope is not None and not self.close_sent:
            scope["extensions"][EXTENSION] = {"channel": DirectChannel(self)}
