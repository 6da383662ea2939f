"""``/api/data``: several series' windows in one request, for a page's first view.

Each series' answer is exactly what ``/api/series/{key}/data`` gives for it with
the same ``start``, ``end`` and ``points``: one round trip instead of one per chart.
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from realtime.context import Context, context, lookup
from realtime.errors import ApiError
from realtime.params import parse_points, parse_time
from realtime.series import SeriesSpec
from realtime.views.api import window_data
from realtime.views.responses import JSON

__all__ = ["batch_data", "parse_series"]


def parse_series(ctx: Context, raw: str | None) -> list[SeriesSpec]:
    """Comma-separated keys, each once (default: every series); errors name ``series``."""
    if raw is None:
        return list(ctx.settings.series)
    keys = [k.strip() for k in raw.split(",")]
    if not all(keys):
        raise ApiError(400, "'series' must be comma-separated series keys, with none empty", "series")
    if len(set(keys)) != len(keys):
        raise ApiError(400, "'series' names a series twice", "series")
    return [lookup(ctx, k, "series")[0] for k in keys]


async def batch_data(request: Request) -> Response:
    started = time.perf_counter()
    ctx = context(request)
    q = request.query_params
    specs = parse_series(ctx, q.get("series"))
    # Refuse bad bounds before any work, whichever series comes first.
    parse_points(q.get("points"), ctx.settings.default_points, ctx.settings.max_points)
    for name in ("start", "end"):
        if raw := q.get(name):
            parse_time(raw, name)
    answers = {spec.key: await window_data(ctx, spec, ctx.store[spec.key], q) for spec in specs}
    response = JSON({"series": answers})
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response
