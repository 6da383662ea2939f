"""What ``/api/series`` says about each series; the page's boot JSON carries the same list."""

from __future__ import annotations

from typing import Any

from realtime.cadence import thresholds
from realtime.context import Context
from realtime.series import SeriesSpec
from realtime.store import SeriesData
from realtime.times import format_iso

__all__ = ["describe", "series_infos"]


def describe(ctx: Context, spec: SeriesSpec, series: SeriesData) -> dict[str, Any]:
    cadence = series.cadence()
    rules = thresholds(spec, ctx.settings, cadence)
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
        "interval_ms": round(cadence.median_us / 1000, 3) if cadence.median_us else None,
        "gap_ms": rules.gap_us / 1000,
        "stale_after_ms": rules.stale_us / 1000,
        "interpolation": rules.interpolation,
        "low": spec.low,
        "high": spec.high,
        "seq": series.seq,
    }


def series_infos(ctx: Context) -> list[dict[str, Any]]:
    return [describe(ctx, spec, ctx.store[spec.key]) for spec in ctx.settings.series]
