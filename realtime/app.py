"""The application factory and its one lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any

import anyio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute

from realtime import messages
from realtime.auth import Authenticator
from realtime.config import Settings
from realtime.context import PACKAGE_DIR, Context
from realtime.db import create_pool, quiet_lost_connections
from realtime.health import DbHealth
from realtime.history import POOL_SIZE as HISTORY_POOL_SIZE
from realtime.history import History
from realtime.hub import Hub
from realtime.monitor import MetricsServer, StateCollector, endpoint
from realtime.poller import Poller
from realtime.replay import Replays
from realtime.security import FrontDoor
from realtime.store import MemoryPolicy, Store
from realtime.supervise import DEFAULT_POLICY, Policy, supervised
from realtime.views import api, batch, export, openapi, pages, signin, ws
from realtime.views.assets import STATIC_DIR, Assets, Compression
from realtime.views.handlers import exception_handlers

__all__ = ["BackgroundTask", "create_app"]

log = logging.getLogger(__name__)
BackgroundTask = Callable[[], Coroutine[Any, Any, None]]
# Encoded replays kept for reconnect storms.
_REPLAY_CACHE_BYTES = 64 * 1024 * 1024


def create_app(
    settings: Settings,
    *,
    background: Sequence[BackgroundTask] = (),
    on_fatal: Callable[[], None] | None = None,
    supervision: Policy = DEFAULT_POLICY,
) -> Starlette:
    """Build the app; ``background`` tasks (e.g. the demo simulator) share its lifespan.

    ``on_fatal`` is called when a background task keeps crashing: ``run-app``
    passes one that stops the server (and then exits non-zero).
    """
    horizon = settings.store_horizon
    policy = MemoryPolicy(
        max_points=settings.store_max_points,
        horizon_us=round(horizon * 1_000_000) if horizon is not None else None,
    )
    store = Store([s.key for s in settings.series], policy=policy)
    hub = Hub(settings.client_buffer_bytes, settings.send_timeout)
    hub.rounds_per_tick = len(settings.series)
    health = DbHealth(on_change=lambda db: hub.publish(messages.status(db)))
    ctx = Context(
        settings=settings,
        store=store,
        hub=hub,
        health=health,
        history=History(settings, store, health),
        replays=Replays(_REPLAY_CACHE_BYTES),
        templates=Environment(
            loader=FileSystemLoader(PACKAGE_DIR / "templates"), autoescape=select_autoescape(["html"])
        ),
        auth=Authenticator(settings) if settings.auth_required else None,
    )

    # -- metrics (#9): the state read at scrape time (monitor.py), served on METRICS_PORT or below ---
    ctx.metrics.register(StateCollector(ctx))
    metrics_server = None
    if settings.metrics_port is not None:
        metrics_server = MetricsServer(ctx.metrics, settings.host, settings.metrics_port)

    def fatal(reason: str) -> None:
        ctx.fatal = reason
        if on_fatal is not None:
            on_fatal()

    def supervise(name: str, task: Callable[[], Awaitable[None]]) -> Callable[[], Coroutine[Any, Any, None]]:
        return functools.partial(supervised, name, task, fatal, supervision)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await create_pool(settings.pg, max_size=len(settings.series) + 1)
        ctx.history.pool = await create_pool(settings.pg, max_size=HISTORY_POOL_SIZE)
        try:
            with quiet_lost_connections(asyncio.get_running_loop()):
                async with anyio.create_task_group() as tg:
                    for spec in settings.series:
                        observe = ctx.metrics.poll_timer(spec.key)
                        poller = Poller(spec, settings, pool, store[spec.key], hub, health, observe=observe)
                        tg.start_soon(supervise(f"poller:{spec.key}", poller.run))
                    tg.start_soon(supervise("heartbeat", functools.partial(ws.heartbeat, ctx)))
                    tg.start_soon(supervise("frozen-viewers", hub.watch))
                    for i, task in enumerate(background):
                        tg.start_soon(supervise(getattr(task, "__name__", f"background-{i}"), task))
                    if metrics_server is not None:
                        await tg.start(metrics_server.run)
                    yield
                    if metrics_server is not None:
                        await metrics_server.stop()  # closes its port, then the rest is cancelled
                    tg.cancel_scope.cancel()
        finally:
            for p in (pool, ctx.history.pool):
                try:
                    with anyio.fail_after(5):
                        await p.close()
                except TimeoutError:
                    p.terminate()

    routes = [
        Route("/", pages.index),
        Route("/healthz", pages.healthz),
        Route("/readyz", pages.readyz),
        Route("/api/series", api.series_list),
        Route("/api/series/{key}/data", api.series_data),
        Route("/api/series/{key}/stats", api.series_stats),
        Route("/api/data", batch.batch_data),
        Route("/api/export.csv", export.export_csv),
        Route("/openapi.json", openapi.openapi_json),
        WebSocketRoute("/ws", ws.websocket_endpoint),
        Mount("/static", Assets(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
    # -- access control and security (#9): see security.py ---------------------------
    if ctx.auth is not None and ctx.auth.has_form:
        routes += signin.routes()
    if metrics_server is None:
        routes.append(Route("/metrics", endpoint(ctx.metrics)))  # else only on METRICS_PORT
    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers=exception_handlers, middleware=[Middleware(Compression)]
    )
    # Starlette's trailing-slash redirect builds an absolute URL from Host: a 404 instead.
    app.router.redirect_slashes = False
    # The front door wraps the whole stack, server-error handler included.
    app.middleware_stack = FrontDoor(app.build_middleware_stack(), settings, ctx.auth, ctx.metrics, app.routes)
    # -- end #9 -----------------------------------------------------------------------
    app.state.ctx = ctx
    return app
