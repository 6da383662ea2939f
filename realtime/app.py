"""The application factory and its lifespan."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import asyncpg
from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from realtime.config import Settings
from realtime.db import create_pool
from realtime.errors import exception_handlers
from realtime.health import DbHealth
from realtime.hub import Hub
from realtime.poller import Poller
from realtime.store import Store

__all__ = ["Context", "context", "create_app"]

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).parent
BackgroundTask = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Context:
    """Everything the views share; built by create_app, opened by the lifespan."""

    settings: Settings
    store: Store
    hub: Hub
    health: DbHealth
    pool: asyncpg.Pool | None = None
    pollers: dict[str, Poller] = field(default_factory=dict)


def context(conn: HTTPConnection) -> Context:
    ctx = conn.app.state.ctx
    assert isinstance(ctx, Context)
    return ctx


def create_app(settings: Settings, *, background: Sequence[BackgroundTask] = ()) -> Starlette:
    """Build the app; ``background`` tasks (e.g. the demo simulator) share its lifespan."""
    from realtime.views import api, export, pages, ws

    store = Store([s.key for s in settings.series])
    hub = Hub(settings.client_queue_size)
    health = DbHealth(on_change=lambda db: hub.publish({"type": "status", "db": db}, subscribed_only=False))
    ctx = Context(settings=settings, store=store, hub=hub, health=health)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx.pool = await create_pool(settings.pg)
        try:
            async with anyio.create_task_group() as tg:
                for spec in settings.series:
                    poller = Poller(spec, settings, ctx.pool, store[spec.key], hub, health)
                    ctx.pollers[spec.key] = poller
                    tg.start_soon(poller.run, name=f"poller:{spec.key}")
                tg.start_soon(ws.heartbeat, ctx, name="heartbeat")
                for task in background:
                    tg.start_soon(task)
                yield
                tg.cancel_scope.cancel()
        finally:
            try:
                with anyio.fail_after(5):
                    await ctx.pool.close()
            except TimeoutError:
                ctx.pool.terminate()

    routes = [
        Route("/", pages.index),
        Route("/healthz", pages.healthz),
        Route("/readyz", pages.readyz),
        Route("/api/series", api.series_list),
        Route("/api/series/{key}/data", api.series_data),
        Route("/api/series/{key}/stats", api.series_stats),
        Route("/api/export.csv", export.export_csv),
        WebSocketRoute("/ws", ws.websocket_endpoint),
        Mount("/static", StaticFiles(directory=PACKAGE_DIR / "static", check_dir=False), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=exception_handlers)
    app.state.ctx = ctx
    return app
