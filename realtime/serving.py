"""How uvicorn serves the app, for ``run-app`` and the tests alike: one place for its options.

- No ``server`` header, and no uvicorn access log (the front door writes one that names the user).
- The WebSocket protocol with a direct channel to each socket for the hub (:mod:`realtime.wsprotocol`).
- No uvicorn proxy-header handling: it would believe ``X-Forwarded-For`` from 127.0.0.1 by
  default; :mod:`realtime.peer` believes forwarded headers only from ``TRUSTED_PROXIES``.
- HTTP/1.1 through h11 with an explicit limit on an incomplete request head
  (:data:`MAX_HEAD`), and :class:`H11Protocol` answering a head over it with 414 (the
  request line is still unfinished) or 431 (the headers are), instead of uvicorn's 400.

What the h11 limit does: h11 buffers a request head until it is complete, and refuses it
once the buffer holds more than ``max_incomplete_event_size`` bytes with the head still
unfinished. A head that arrives whole in one read is parsed whatever its size (asyncio reads
up to 256 KiB at a time), so long targets that arrive whole reach the front door, which
answers 414 over :data:`~realtime.security.MAX_TARGET`. Either way a long request line
gets 414, never a reset: after refusing, the server stops writing but keeps reading (and
dropping) what the client still sends for a moment before it closes. Closing with unread
input makes the kernel send a TCP reset, which can destroy the response before the client
reads it; that was the "connection reset" seen for long request lines.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

import orjson
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol as _UvicornH11

from realtime.accesslog import UserFilter
from realtime.config import Settings
from realtime.logformat import JsonFormatter
from realtime.wsprotocol import DirectWriteProtocol

__all__ = ["MAX_HEAD", "H11Protocol", "configure_logging", "limits", "uvicorn_config"]

# The longest request head (request line and headers) buffered while incomplete.
MAX_HEAD = 64 * 1024
# How long a refused connection keeps draining the client's input before closing.
LINGER_SECONDS = 2.0
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(user_suffix)s"


class H11Protocol(_UvicornH11):
    """Uvicorn's h11 protocol, answering an oversized head with 414 or 431 and closing gently."""

    _draining = False

    def send_400_response(self, msg: str) -> None:
        pending, _ = self.conn.trailing_data
        if len(pending) > MAX_HEAD:
            line_done = b"\n" in pending
            status, reason = (431, b"Request Header Fields Too Large") if line_done else (414, b"URI Too Long")
            error = "request headers too large" if line_done else "request line too long"
            message = f"{error} (the head may be at most {MAX_HEAD} bytes)"
        else:
            status, reason, message = 400, b"Bad Request", "invalid HTTP request"
        body = orjson.dumps({"error": message})
        head = [
            b"HTTP/1.1 %d %s" % (status, reason),
            b"content-type: application/json",
            b"content-length: %d" % len(body),
            b"x-content-type-options: nosniff",
            b"cache-control: no-store",
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self._linger()

    def _linger(self) -> None:
        self._draining = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, self.transport.close)

    def data_received(self, data: bytes) -> None:
        if self._draining:
            return  # the answer is sent: drop the rest of the oversized request
        super().data_received(data)

    def eof_received(self) -> None:
        if self._draining:
            self.transport.close()
        else:
            super().eof_received()


def uvicorn_config(app: Any, *, host: str, port: int, log_level: str | None = "info", **options: Any) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=H11Protocol,
        h11_max_incomplete_event_size=MAX_HEAD,
        server_header=False,
        access_log=False,
        proxy_headers=False,
        ws=DirectWriteProtocol,
        # Negotiated without context takeover (see wsprotocol): large frames are compressed once
        # for every viewer, and no viewer keeps compressor state.
        ws_per_message_deflate=True,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        **options,
    )


def limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's options that come from settings: connection cap, shutdown bound, inbound message size."""
    return {
        "limit_concurrency": settings.max_connections,
        "timeout_graceful_shutdown": math.ceil(settings.shutdown_timeout),
        # What a viewer may send is a subscribe of a few hundred bytes: refuse (1009) anything huge.
        "ws_max_size": settings.max_message_bytes,
    }


def configure_logging(level: str, fmt: str = "text") -> None:
    """Log lines carry the request's user (see :mod:`realtime.accesslog`); ``fmt`` is ``LOG_FORMAT``.

    As JSON, uvicorn's own lines go through the same handler (``run-app`` then passes
    ``log_config=None``, so uvicorn installs no handlers of its own): every line is JSON.
    """
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(UserFilter())
        if fmt == "json":
            handler.setFormatter(JsonFormatter())
    if fmt == "json":
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = name != "uvicorn.access"  # that one is off: the front door logs
