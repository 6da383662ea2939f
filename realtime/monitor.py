"""What ``/metrics`` reports about the app's state, and where it is served.

:class:`StateCollector` reads the store, the hub, the replays and the database's health
when Prometheus asks, so nothing on the polling or fan-out paths does work for it. A
scrape is a handful of attribute reads per series and one sum over the viewers' socket
buffers: cheap with thousands of viewers, and on the event loop like everything else,
so it never races the state it reads.

``/metrics`` is a route on the app's own port (behind the front door: with access control
on it needs a user), or, with ``METRICS_PORT`` set, only on that port (:class:`MetricsServer`),
with no access control, for a scraper that has no credentials.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import get_args

import anyio
import uvicorn
from anyio.abc import TaskStatus
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from realtime.context import Context
from realtime.db import OutageKind
from realtime.hub import DropReason
from realtime.metrics import Metrics
from realtime.serving import uvicorn_config
from realtime.store import SeriesState

__all__ = ["MetricsServer", "StateCollector", "endpoint"]

log = logging.getLogger(__name__)

_STATES: tuple[SeriesState, ...] = get_args(SeriesState)
_KINDS: tuple[OutageKind, ...] = get_args(OutageKind)
_DROP_REASONS: tuple[DropReason, ...] = get_args(DropReason)


class StateCollector:
    """The app's state as metrics, read at scrape time."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        yield from self._series()
        yield from self._viewers()
        yield from self._database()

    def _series(self) -> Iterator[Metric]:
        now = time.monotonic()
        ok_age = GaugeMetricFamily(
            "realtime_series_poll_age_seconds",
            "Seconds since the series' last successful poll round (since start-up if none yet)",
            labels=["series"],
        )
        round_age = GaugeMetricFamily(
            "realtime_series_round_age_seconds",
            "Seconds since the series' poller last finished a round, whatever its outcome "
            "(over POLL_STALL_AFTER, /readyz says it stalled)",
            labels=["series"],
        )
        ingested = CounterMetricFamily(
            "realtime_series_rows_ingested", "Rows read from the series' table into memory", labels=["series"]
        )
        late = CounterMetricFamily(
            "realtime_series_late_rows",
            "Rows merged behind (or at) the series' newest row: backfilled late",
            labels=["series"],
        )
        stored = GaugeMetricFamily(
            "realtime_series_rows_in_memory", "Rows of the series held in memory", labels=["series"]
        )
        state = GaugeMetricFamily(
            "realtime_series_state",
            "The series' state: 1 for the current one, 0 for the others",
            labels=["series", "state"],
        )
        for key, s in self.ctx.store.series.items():
            ok_age.add_metric([key], now - s.ok_at)
            round_age.add_metric([key], now - s.polled_at)
            ingested.add_metric([key], s.ingested)
            late.add_metric([key], s.late_rows)
            stored.add_metric([key], s.n)
            for name in _STATES:
                state.add_metric([key, name], 1.0 if s.state == name else 0.0)
        yield from (ok_age, round_age, ingested, late, stored, state)

    def _viewers(self) -> Iterator[Metric]:
        hub, replays = self.ctx.hub, self.ctx.replays
        yield GaugeMetricFamily("realtime_viewers", "Live-feed viewers connected to this process", value=len(hub))
        yield GaugeMetricFamily(
            "realtime_viewer_backlog_bytes",
            "Bytes written for viewers that their sockets have not taken yet, summed over viewers",
            value=sum(viewer.backlog() for viewer in hub.viewers),
        )
        dropped = CounterMetricFamily(
            "realtime_viewers_dropped",
            "Viewers dropped by the server: overflow (fell CLIENT_BUFFER_BYTES behind) or frozen "
            "(backlog stuck for SEND_TIMEOUT)",
            labels=["reason"],
        )
        for reason in _DROP_REASONS:
            dropped.add_metric([reason], hub.dropped[reason])
        yield dropped
        yield CounterMetricFamily(
            "realtime_frames_sent", "Live frames encoded once and written to every viewer", value=hub.frames
        )
        built = CounterMetricFamily(
            "realtime_replays",
            "Replays for reconnecting viewers: built, or shared from the cache",
            labels=["outcome"],
        )
        built.add_metric(["built"], replays.built)
        built.add_metric(["shared"], replays.shared)
        yield built
        yield GaugeMetricFamily("realtime_replay_cache_bytes", "Bytes of replays kept for reuse", value=replays.bytes)

    def _database(self) -> Iterator[Metric]:
        health = self.ctx.health
        yield GaugeMetricFamily(
            "realtime_database_up",
            "1 while the database answers, 0 while it is down or not yet reached",
            value=1.0 if health.state == "up" else 0.0,
        )
        outage = GaugeMetricFamily(
            "realtime_database_outage",
            "1 for the kind of the current database outage, 0 for the others (all 0 while up)",
            labels=["kind"],
        )
        down = health.state == "down"
        for kind in _KINDS:
            outage.add_metric([kind], 1.0 if down and health.kind == kind else 0.0)
        yield outage


def endpoint(metrics: Metrics) -> Callable[[Request], Awaitable[Response]]:
    """The ``/metrics`` route: the registry in the format the scraper asks for."""

    async def serve_metrics(request: Request) -> Response:
        body, content_type = metrics.render(request.headers.get("accept", ""))
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    return serve_metrics


class _SideServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the app's own server owns SIGINT and SIGTERM, and stops this one from its lifespan


class MetricsServer:
    """``/metrics`` alone on ``METRICS_PORT``, for the app's lifespan: started with it, stopped with it."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        self.host, self.port = host, port
        app = Router([Route("/metrics", endpoint(metrics))], redirect_slashes=False)
        # log_config=None and log_level=None: leave the logging run-app set up alone.
        config = uvicorn_config(
            app,
            host=host,
            port=port,
            log_level=None,
            log_config=None,
            lifespan="off",
            limit_concurrency=64,
            timeout_graceful_shutdown=2,
        )
        self._server = _SideServer(config)
        self._done = anyio.Event()

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Serve until :meth:`stop`; the port is listening (or start-up failed) once started."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # Bound here, not by uvicorn (which would exit the process): a taken port fails the app's start-up.
        sock = socket.create_server((self.host, self.port), family=family, backlog=128)
        try:
            log.info("serving /metrics on %s port %d", self.host, self.port)
            task_status.started()
            await self._server.serve(sockets=[sock])
        finally:
            sock.close()
            self._done.set()

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._done.wait()
