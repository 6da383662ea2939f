"""JSON routes: the series list, windowed history (M4) and window statistics."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response

from realtime.context import context, lookup
from realtime.downsample import m4
from realtime.params import parse_points, parse_window
from realtime.rows import Rows, empty_rows
from realtime.series import SeriesSpec
from realtime.store import SeriesData
from realtime.times import format_iso
from realtime.views.responses import JSON

__all__ = ["series_data", "series_list", "series_stats", "stale_after_ms"]


def stale_after_ms(spec: SeriesSpec, interval: float | None) -> float:
    """How long without a sample before the latest value counts as stale (``interval`` in µs)."""
    if spec.stale_after is not None:
        return spec.stale_after * 1000
    # Ten typical intervals, but never under 10 s: sampling is irregular.
    return max(10_000.0, 10 * interval / 1000) if interval else 60_000.0


def describe(spec: SeriesSpec, series: SeriesData) -> dict[str, Any]:
    interval = series.typical_interval()
    return {
        "key": spec.key,
        "table": spec.table,
        "name": spec.name,
        "unit": spec.unit,
        "first": format_iso(series.first),
        "last": format_iso(series.newest),
        "count": series.count,
        "state": series.state,
        "error": series.error,
        "interval_ms": round(interval / 1000, 3) if interval else None,
        "stale_after_ms": stale_after_ms(spec, interval),
        "low": spec.low,
        "high": spec.high,
        "seq": series.seq,
    }


async def series_list(request: Request) -> Response:
    ctx = context(request)
    return JSON([describe(spec, ctx.store[spec.key]) for spec in ctx.settings.series])


async def series_data(request: Request) -> Response:
    started = time.perf_counter()
    ctx = context(request)
    spec, series = lookup(ctx, request.path_params["key"])
    q = request.query_params
    points = parse_points(q.get("points"), ctx.settings.default_points, ctx.settings.max_points)
    window = parse_window(q.get("start"), q.get("end"), series.newest)
    body: dict[str, Any] = {"key": spec.key, "state": series.state, "seq": series.seq}
    if window is None:
        body.update(start=None, end=None, t=[], v=[], downsampled=False, count=0)
        return JSON(body)
    start, end = window
    # Snapshot seq before any await: the rows below are at least this fresh.
    seq = series.seq
    t, v = await ctx.history.window(spec, start, end)
    n = int(t.size)
    if n > points:
        t, v = m4((t, v), points, has_nulls=series.null_count > 0 or not series.covers(start))
    body.update(
        seq=seq,
        start=start // 1000,
        end=end // 1000,
        t=t // 1000,
        v=v,
        downsampled=int(t.size) < n,
        count=n,
    )
    response = JSON(body)
    # Time spent serving, JSON encoding included; the benchmark reads it.
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


def _stats(rows: Rows, nulls_possible: bool) -> dict[str, Any]:
    t, v = rows
    if nulls_possible:
        keep = ~np.isnan(v)
        t, v = t[keep], v[keep]
    if v.size == 0:
        return {"count": 0, "min": None, "max": None, "mean": None, "last": None, "last_t": None}
    return {
        "count": int(v.size),
        "min": float(v.min()),
        "max": float(v.max()),
        "mean": float(v.sum() / v.size),
        "last": float(v[-1]),
        "last_t": int(t[-1]) // 1000,
    }


async def series_stats(request: Request) -> Response:
    ctx = context(request)
    spec, series = lookup(ctx, request.path_params["key"])
    q = request.query_params
    window = parse_window(q.get("start"), q.get("end"), series.newest)
    if window is None:
        return JSON({"key": spec.key, "start": None, "end": None, **_stats(empty_rows(), False)})
    start, end = window
    rows = await ctx.history.window(spec, start, end)
    stats = _stats(rows, series.null_count > 0 or not series.covers(start))
    return JSON({"key": spec.key, "start": start // 1000, "end": end // 1000, **stats})
