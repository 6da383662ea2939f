"""The app's access log (one line per request, naming its user) and the request on every other line.

Uvicorn's access log cannot know the user, so it is off and the front door
writes ``realtime.access`` lines instead: method, target, status, duration,
user and client address. A WebSocket's line is written when it closes, with
the connection's whole duration. While a request is served its user and
request id are in context variables, and :class:`UserFilter` puts them on every
log record written meanwhile (a CSV export's, an error's), whichever module
writes it: plain lines end with ``user=...``, JSON lines get ``user`` and
``request_id`` fields (:mod:`realtime.logformat`).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from contextvars import ContextVar

from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Scope

__all__ = [
    "ACCESS",
    "UserFilter",
    "current_request",
    "current_user",
    "request_id",
    "route_label",
    "safe",
    "write",
]

ACCESS = logging.getLogger("realtime.access")
current_user: ContextVar[str | None] = ContextVar("current_user", default=None)
current_request: ContextVar[str | None] = ContextVar("current_request", default=None)
_MAX_TARGET_SHOWN = 512
# An X-Request-ID from a proxy (a UUID, a trace id) is kept if it is this plain; anything else is replaced.
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:+=@/-]{1,64}")


def safe(text: str, limit: int = _MAX_TARGET_SHOWN) -> str:
    """Printable and bounded: a client cannot forge log lines or flood them."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return text if text.isprintable() and " " not in text else repr(text)[1:-1].replace(" ", "%20")


def request_id(given: str | None) -> str:
    """The request's id: the incoming ``X-Request-ID`` if short and printable, else a new one."""
    if given is not None and _GIVEN_ID.fullmatch(given):
        return given
    return secrets.token_hex(8)


def route_label(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The route template a request went to (``/api/series/{key}/data``), never its raw path.

    Requests the front door answered itself (401, 403, 414) were not routed: they are
    matched here, so a refused scrape still counts under ``/metrics``.
    """
    route = scope.get("route")
    if route is None and "router" not in scope:
        route = next((r for r in routes if r.matches(scope)[0] is not Match.NONE), None)
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    return path + "/{path}" if isinstance(route, Mount) else path


def write(
    method: str, target: str, status: int, duration_ms: float, user: str | None, client: str, route: str = ""
) -> None:
    method, target, client = safe(method, 16), safe(target), safe(client, 64)
    ACCESS.info(
        "%s %s %d %.1fms user=%s client=%s",
        method,
        target,
        status,
        duration_ms,
        safe(user, 256) if user else "-",
        client,
        # Fields of their own for JSON lines (the user and request id come from UserFilter).
        extra={
            "method": method,
            "target": target,
            "route": route,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "client": client,
        },
    )


class UserFilter(logging.Filter):
    """Puts the request being served on every record: ``user`` and ``request_id`` (None outside
    a request), and ``user_suffix`` for plain lines (`` user=name`` while serving a signed-in request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        user = current_user.get()
        record.user = user
        record.request_id = current_request.get()
        record.user_suffix = f" user={safe(user, 256)}" if user and record.name != ACCESS.name else ""
        return True
