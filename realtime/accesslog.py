"""The app's access log (one line per request, naming its user) and the user on every other line.

Uvicorn's access log cannot know the user, so it is off and the front door
writes ``realtime.access`` lines instead: method, target, status, duration,
user and client address. A WebSocket's line is written when it closes, with
the connection's whole duration. While a request is served its user is in a
context variable, and :class:`UserFilter` appends ``user=...`` to every log
line written meanwhile (a CSV export's, an error's), whichever module writes it.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

__all__ = ["ACCESS", "UserFilter", "current_user", "safe", "write"]

ACCESS = logging.getLogger("realtime.access")
current_user: ContextVar[str | None] = ContextVar("current_user", default=None)
_MAX_TARGET_SHOWN = 512


def safe(text: str, limit: int = _MAX_TARGET_SHOWN) -> str:
    """Printable and bounded: a client cannot forge log lines or flood them."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return text if text.isprintable() and " " not in text else repr(text)[1:-1].replace(" ", "%20")


def write(method: str, target: str, status: int, duration_ms: float, user: str | None, client: str) -> None:
    ACCESS.info(
        "%s %s %d %.1fms user=%s client=%s",
        safe(method, 16),
        safe(target),
        status,
        duration_ms,
        safe(user, 256) if user else "-",
        safe(client, 64),
    )


class UserFilter(logging.Filter):
    """Gives every record ``user_suffix`` (`` user=name`` while serving a signed-in request, else empty)."""

    def filter(self, record: logging.LogRecord) -> bool:
        user = current_user.get()
        record.user_suffix = f" user={safe(user, 256)}" if user and record.name != ACCESS.name else ""
        return True
