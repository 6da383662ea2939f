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
been sent. Without this protocol (another server, a test client) the hub
falls back to plain ASGI sends.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

__all__ = ["EXTENSION", "DirectChannel", "DirectWriteProtocol"]

EXTENSION = "realtime.direct"


class DirectChannel:
    """Write, measure and abort one viewer's socket, synchronously."""

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    @property
    def open(self) -> bool:
        p = self._protocol
        return not (p.close_sent or p.disconnected or p.transport.is_closing())

    def write(self, frame: bytes) -> bool:
        """Queue a whole frame on the socket; False once the connection is closing."""
        if not self.open:
            return False
        self._protocol.transport.write(frame)
        return True

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""
        return self._protocol.transport.get_write_buffer_size()

    def abort(self) -> None:
        """Drop the connection now, discarding what is buffered."""
        self._protocol.transport.abort()


class DirectWriteProtocol(WebSocketsSansIOProtocol):
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
        scope: Any = getattr(self, "scope", None)
        # The ASGI task is created but has not run yet: the scope can still gain the extension.
        if scope is not None and not self.close_sent:
            scope["extensions"][EXTENSION] = {"channel": DirectChannel(self)}
