"""What the views share, and how they reach it: ``request.app.state.ctx``.

Views import this module, never the app module, so the app can import
the views without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment
from starlette.requests import HTTPConnection

from realtime.auth import Authenticator
from realtime.config import Settings
from realtime.errors import ApiError
from realtime.health import DbHealth
from realtime.history import History
from realtime.hub import Hub
from realtime.metrics import Metrics
from realtime.params import shown
from realtime.replay import Replays
from realtime.series import SeriesSpec
from realtime.store import SeriesData, Store

__all__ = ["PACKAGE_DIR", "Context", "context", "lookup"]

PACKAGE_DIR = Path(__file__).parent


@dataclass
class Context:
    """Everything the views share; built by ``create_app``, opened by its lifespan."""

    settings: Settings
    store: Store
    hub: Hub
    health: DbHealth
    history: History
    replays: Replays
    templates: Environment
    # Why the app cannot go on (a background task that keeps crashing), or None.
    fatal: str | None = None
    # Who may come in (AUTH_USERS_FILE, AUTH_PROXY_HEADER); None when access is open.
    auth: Authenticator | None = None
    # The app's own metrics registry (#9): what /metrics serves; ctx.metrics.exported(rows, nbytes) for CSV.
    metrics: Metrics = field(default_factory=Metrics)


def context(conn: HTTPConnection) -> Context:
    ctx = conn.app.state.ctx
    assert isinstance(ctx, Context)
    return ctx


def lookup(ctx: Context, key: str, parameter: str = "key") -> tuple[SeriesSpec, SeriesData]:
    """A configured series and its stored rows, or a 404 naming ``parameter``."""
    spec = ctx.settings.series_by_key().get(key)
    if spec is None:
        raise ApiError(404, f"unknown series {shown(key)}", parameter)
    return spec, ctx.store[key]
