"""JSON routes: the series list, windowed history (M4) and window statistics."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response

from realtime import downsample
from realtime.cadence import thresholds
from realtime.context import Context, context, lookup
from realtime.params import parse_points, parse_window
from realtime.rows import Rows, empty_rows
from realtime.series import SeriesSpec
from realtime.store import SeriesData
from realtime.times import wire_ms, wire_ms1
from realtime.views.responses import JSON
from realtime.views.seriesinfo import describe, series_infos

__all__ = ["describe", "series_data", "series_list", "series_stats", "window_data"]


async def series_list(request: Request) -> Response:
    return JSON(series_infos(context(request)))


async def series_data(request: Request) -> Response:
    started = time.perf_counter()
    ctx = context(request)
    spec, series = lookup(ctx, request.path_params["key"])
    response = JSON(await window_data(ctx, spec, series, request.query_params))
    # Time spent serving, JSON encoding included; the benchmark reads it.
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


async def window_data(ctx: Context, spec: SeriesSpec, series: SeriesData, q: Mapping[str, str]) -> dict[str, Any]:
    """The body of ``/api/series/{key}/data`` for one series (``/api/data`` answers several)."""
    ctx.history.check_loaded(spec)
    points = parse_points(q.get("points"), ctx.settings.default_points, ctx.settings.max_points)
    window = parse_window(q.get("start"), q.get("end"), series.newest)
    gap_us = thresholds(spec, ctx.settings, series.cadence()).gap_us
    body: dict[str, Any] = {"key": spec.key, "state": series.state, "seq": series.seq, "gap_ms": gap_us / 1000}
    if window is None:
        body.update(start=None, end=None, t=[], v=[], gaps=[], before=None, downsampled=False, count=0)
        return body
    start, end = window
    # Snapshot seq before any await: the rows below are at least this fresh.
    seq = series.seq
    t, v = await ctx.history.window(spec, start, end)
    # The store's indexes of long silences and NULL rows, read with t, before any await.
    known, null_times = series.long_gaps(start, end, gap_us), series.null_times(start, end)
    before = await ctx.history.before(spec, start)
    n = int(t.size)
    # Outages: consecutive samples further apart than the series' threshold,
    # the sample before the window included, so its left edge is right too.
    starts = downsample.gap_starts(t, gap_us, limit=2 * points, known=known)
    gaps = np.stack((t[starts], t[starts + 1]), axis=1)
    if before is not None and n and int(t[0]) - before[0] > gap_us:
        gaps = np.concatenate((np.array([[before[0], t[0]]], dtype=np.int64), gaps))
    if n > points:
        has_nulls = series.null_count > 0 or not series.covers(start)
        keep = np.concatenate((starts, starts + 1))
        t, v = downsample.m4((t, v), points, has_nulls=has_nulls, keep=keep, null_times=null_times)
    body.update(
        seq=seq,
        start=start // 1000,
        end=end // 1000,
        t=wire_ms(t),
        v=v,
        gaps=wire_ms(gaps),
        before=None if before is None else {"t": wire_ms1(before[0]), "v": _value(before[1])},
        downsampled=int(t.size) < n,
        count=n,
    )
    return body


def _value(x: float) -> float | None:
    return None if x != x else x


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
        "last_t": wire_ms1(int(t[-1])),
    }


async def series_stats(request: Request) -> Response:
    ctx = context(request)
    spec, series = lookup(ctx, request.path_params["key"])
    q = request.query_params
    ctx.history.check_loaded(spec)
    window = parse_window(q.get("start"), q.get("end"), series.newest)
    if window is None:
        return JSON({"key": spec.key, "start": None, "end": None, **_stats(empty_rows(), False)})
    start, end = window
    rows = await ctx.history.window(spec, start, end)
    stats = _stats(rows, series.null_count > 0 or not series.covers(start))
    return JSON({"key": spec.key, "start": start // 1000, "end": end // 1000, **stats})
