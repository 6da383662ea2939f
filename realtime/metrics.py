"""The app's own Prometheus registry, and what is counted as it happens.

Each app has a registry of its own, never the library's global one: tests build many
apps in one process, and two replicas' numbers must not mix. Most of what ``/metrics``
shows is read from the app's state when Prometheus asks (viewers, bytes queued, series
state, the database's health: :class:`realtime.monitor.StateCollector`), so the hot
paths do no bookkeeping for it. What leaves no trace in that state is counted here, as
it happens: how long a poll round or a request took, and what a CSV export sent.

Label values are bounded: series keys come from the configuration, routes are route
templates, methods outside the usual few are ``other``; never a raw path or a user.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

__all__ = ["METHODS", "Metrics"]

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A poll round is milliseconds; a bulk load or a slow database, seconds.
_POLL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Page, API and health answers are milliseconds; a long CSV export, up to minutes.
_REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._poll = Histogram(
            "realtime_series_poll_duration_seconds",
            "Seconds one poll round of a series' table took (connection, query, late-row check; a load too)",
            ["series"],
            buckets=_POLL_BUCKETS,
            registry=self.registry,
        )
        self._requests = Histogram(
            "realtime_http_request_duration_seconds",
            "Seconds from a request's arrival to its last byte, by route template, method and status code "
            "(WebSocket handshakes only when refused)",
            ["route", "method", "code"],
            buckets=_REQUEST_BUCKETS,
            registry=self.registry,
        )
        self._export_rows = Counter("realtime_export_rows", "Rows written into CSV exports", registry=self.registry)
        self._export_bytes = Counter(
            "realtime_export_bytes", "Bytes of CSV text written into exports", registry=self.registry
        )
        # CPU, memory and open descriptors of this process, read from /proc at scrape time.
        ProcessCollector(registry=self.registry)

    def poll_timer(self, series: str) -> Callable[[float], None]:
        """Where one series' poller reports each round's duration (the series shows at 0 until then)."""
        return self._poll.labels(series).observe

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self._requests.labels(route, method if method in METHODS else "other", str(status)).observe(seconds)

    def exported(self, rows: int, nbytes: int) -> None:
        """A CSV export wrote ``rows`` rows as ``nbytes`` bytes (call it per chunk, or once at the end)."""
        self._export_rows.inc(rows)
        self._export_bytes.inc(nbytes)

    def register(self, collector: Collector) -> None:
        self.registry.register(collector)

    def render(self, accept: str) -> tuple[bytes, str]:
        """The exposition and its content type: Prometheus text, or OpenMetrics if the scraper asks for it."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type
