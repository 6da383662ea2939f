"""``/api/export.csv``: the exact raw rows of a window, streamed in constant memory.

Rows come from :class:`~realtime.history.History` in slabs cut on instant
boundaries; :mod:`realtime.csvformat` turns each slab into text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from realtime import csvformat
from realtime.context import context, lookup
from realtime.db import CONNECTION_ERRORS
from realtime.errors import ApiError
from realtime.params import parse_window
from realtime.times import HOUR_US, file_stamp, now_us

__all__ = ["export_csv"]

# What can end an export whose headers are already sent: the database going away.
_INTERRUPTED: tuple[type[BaseException], ...] = (ApiError, *CONNECTION_ERRORS)


async def export_csv(request: Request) -> Response:
    ctx = context(request)
    q = request.query_params
    layout = q.get("layout", "wide") or "wide"
    if layout not in ("wide", "long"):
        raise ApiError(400, f"'layout' must be 'wide' or 'long', got {layout!r}", "layout")
    raw_keys = q.get("series")
    keys = [k.strip() for k in raw_keys.split(",") if k.strip()] if raw_keys else [s.key for s in ctx.settings.series]
    if not keys:
        raise ApiError(400, "'series' names no series", "series")
    if len(set(keys)) != len(keys):
        raise ApiError(400, "'series' names a series twice", "series")
    specs = [lookup(ctx, k, "series")[0] for k in keys]
    for spec in specs:
        ctx.history.check_loaded(spec)
    window = parse_window(q.get("start"), q.get("end"), ctx.store.newest())
    if window is None:
        # No data anywhere yet: an empty file for the last hour.
        now = now_us()
        window = (now - HOUR_US, now)
    start, end = window
    for spec in specs:
        ctx.history.check_available(spec, start)
    header = csvformat.header(layout, [spec.label for spec in specs])

    async def body() -> AsyncIterator[str]:
        yield header
        try:
            async for slab in ctx.history.slabs(specs, start, end):
                yield csvformat.lines(layout, keys, slab)
        except _INTERRUPTED:
            # Headers are sent: the best we can do is end the file visibly.
            yield "# export interrupted: the database became unavailable\r\n"

    filename = f"bioreactor_{file_stamp(start)}_{file_stamp(end)}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
