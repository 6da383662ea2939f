"""``/api/export.csv``: the exact raw rows of a window, streamed in constant memory.

Rows come from :class:`~realtime.history.History` in slabs cut on instant
boundaries; :mod:`realtime.csvformat` turns each slab into text in a worker
thread, so the event loop only moves bytes. Reading, formatting and sending
overlap, three slabs at most, and nothing more is read until the client
takes what was sent: memory stays flat, and a client that goes away stops
its export at once. At most ``MAX_EXPORTS`` stream at once (else 429).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from realtime import csvformat
from realtime.context import context, lookup
from realtime.db import CONNECTION_ERRORS
from realtime.errors import ApiError
from realtime.history import RETRY_AFTER
from realtime.params import parse_window
from realtime.rows import Rows
from realtime.times import HOUR_US, file_stamp, now_us

__all__ = ["export_csv"]

# What can end an export whose headers are already sent: the database going away.
_INTERRUPTED: tuple[type[BaseException], ...] = (ApiError, *CONNECTION_ERRORS)
# Threads formatting CSV, for all exports together: two at most, and a core always left to the event loop.
_FORMAT_THREADS = max(1, min(2, (os.cpu_count() or 1) - 1))
# Their niceness: under CPU contention the event loop's thread goes first (measured on a loaded two-core
# machine, a 3 M-row export at full speed: the loop's p95 lag fell from 20-35 ms to 8-20, its max by 3-4x).
_FORMAT_NICE = 10


def _lower_priority() -> None:
    # On Linux a thread id names one thread; elsewhere it would be taken for a process id.
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _FORMAT_NICE)


_formatter = ThreadPoolExecutor(_FORMAT_THREADS, thread_name_prefix="csv-format", initializer=_lower_priority)


class _ExportResponse(StreamingResponse):
    """A streamed export that gives its slot back however it ends, even before its first byte."""

    def __init__(
        self, content: AsyncGenerator[bytes, None], release: Callable[[], None], headers: dict[str, str]
    ) -> None:
        super().__init__(content, media_type="text/csv; charset=utf-8", headers=headers)
        self._content = content
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                await self._content.aclose()  # now, not when collected: it stops the slab read ahead
            finally:
                self._release()


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
    filename = f"bioreactor_{file_stamp(start)}_{file_stamp(end)}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    if request.method == "HEAD":
        # Headers only: no slot taken, no row read, no text made.
        return Response(media_type="text/csv; charset=utf-8", headers=headers)
    history, metrics = ctx.history, ctx.metrics
    if not history.exports.take():
        raise ApiError(429, "too many CSV exports at once; try again shortly", retry_after=RETRY_AFTER)
    header = csvformat.header(layout, [spec.label for spec in specs]).encode()

    async def text(slab: list[Rows]) -> bytes:
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(_formatter, csvformat.lines, layout, keys, slab)
        metrics.exported(sum(t.size for t, _ in slab), len(out))
        return out

    async def body() -> AsyncGenerator[bytes, None]:
        yield header
        try:
            async with contextlib.aclosing(_pipelined(history.slabs(specs, start, end), text)) as texts:
                async for chunk in texts:
                    yield chunk
        except _INTERRUPTED:
            # Headers are sent: the best we can do is end the file visibly.
            yield b"# export interrupted: the database became unavailable\r\n"

    return _ExportResponse(body(), history.exports.give_back, headers)


async def _pipelined(
    slabs: AsyncIterator[list[Rows]], text: Callable[[list[Rows]], Awaitable[bytes]]
) -> AsyncGenerator[bytes, None]:
    """The slabs' texts in order: slab k+1 is read while slab k is formatted and k-1 sent.

    So reading (PostgreSQL), formatting (a thread) and sending overlap, and an
    export holds three slabs at most. Closing it cancels what is under way:
    a client gone, no slab more is read.
    """

    async def read() -> list[Rows] | None:
        try:
            return await slabs.__anext__()
        except StopAsyncIteration:
            return None

    reading = asyncio.ensure_future(read())
    formatting: asyncio.Future[bytes] | None = None
    try:
        while (slab := await reading) is not None:
            reading = asyncio.ensure_future(read())
            previous, formatting = formatting, asyncio.ensure_future(text(slab))
            if previous is not None:
                yield await previous
        if formatting is not None:
            yield await formatting
    finally:
        for task in (reading, formatting):
            if task is not None and not task.cancel() and not task.cancelled():
                task.exception()  # retrieved, so a failure after the end is not logged as lost
