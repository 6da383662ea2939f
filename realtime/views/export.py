"""CSV export of the exact raw rows of a window, streamed in constant memory.

Rows are read in chunks that end on a timestamp boundary, from the store (by
time, so rows merged in meanwhile cannot shift the cursor) or, for ranges
older than the store, from a server-side cursor. ``wide`` merges the series
by instant in slabs: everything up to the earliest chunk end of any series.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Literal

import numpy as np
import numpy.typing as npt
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from realtime.app import Context, context
from realtime.config import SeriesSpec
from realtime.db import CONNECTION_ERRORS, F64, I64, Rows, dt_from_us, empty_rows, us_from_dt
from realtime.errors import ApiError
from realtime.params import HOUR_US, parse_window
from realtime.store import SeriesData
from realtime.views.api import lookup

__all__ = ["export_csv"]

CHUNK = 50_000


def _fmt_times(t: I64) -> list[str]:
    unit: Literal["ms", "us"] = "ms" if not np.any(t % 1000) else "us"
    stamps: npt.NDArray[np.datetime64] = t.astype("datetime64[us]")
    text = np.datetime_as_string(stamps, unit=unit)
    return [s + "Z" for s in text.tolist()]


def _fmt_values(v: F64) -> list[str]:
    # repr() of a Python float is the shortest text that reads back exactly.
    return ["" if x != x else repr(x) for x in v.tolist()]


async def _store_chunks(series: SeriesData, start: int, end: int) -> AsyncIterator[Rows]:
    cursor = start
    while cursor <= end:
        i0, i1 = series.bounds(cursor, end)
        if i0 >= i1:
            return
        stop = min(i0 + CHUNK, i1)
        # Extend to include every row sharing the last timestamp.
        stop = int(np.searchsorted(series.t, series.t[stop - 1], "right"))
        t, v = series.t[i0:stop].copy(), series.v[i0:stop].copy()
        yield t, v
        cursor = int(t[-1]) + 1


async def _db_chunks(ctx: Context, spec: SeriesSpec, start: int, end: int) -> AsyncIterator[Rows]:
    poller = ctx.pollers.get(spec.key)
    if ctx.pool is None or poller is None or poller.sql is None:
        raise ApiError(503, "the database is unavailable; this range is not in memory")
    sql = poller.sql.rows_between(end_inclusive=True)
    async with ctx.pool.acquire() as conn, conn.transaction(readonly=True):
        cur = await conn.cursor(sql, dt_from_us(start), dt_from_us(end))
        held = empty_rows()
        while True:
            records = await cur.fetch(CHUNK)
            if not records:
                if held[0].size:
                    yield held
                return
            t = np.concatenate((held[0], np.array([us_from_dt(r[0]) for r in records], dtype=np.int64)))
            v = np.concatenate((held[1], np.array([r[1] for r in records], dtype=np.float64)))
            # Hold back the last instant: the next fetch may hold more rows
            # of it, and a chunk must end on a timestamp boundary.
            cut = int(np.searchsorted(t, t[-1], "left"))
            held = (t[cut:], v[cut:])
            if cut:
                yield t[:cut], v[:cut]


def _chunks(ctx: Context, spec: SeriesSpec, series: SeriesData, start: int, end: int) -> AsyncIterator[Rows]:
    if series.covers(start) or not series.loaded:
        return _store_chunks(series, start, end)
    return _db_chunks(ctx, spec, start, end)


def _occurrence(t: I64) -> I64:
    """0 for the first row at an instant, 1 for a second row at it, and so on."""
    if t.size == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.r_[True, t[1:] != t[:-1]]
    idx = np.arange(t.size)
    first: I64 = np.maximum.accumulate(np.where(starts, idx, 0))
    return idx - first


def _wide_lines(slabs: list[Rows]) -> str:
    """One line per distinct instant; a series with two rows at one instant adds a line."""
    k = len(slabs)
    T = np.concatenate([s[0] for s in slabs])
    if T.size == 0:
        return ""
    occ = np.concatenate([_occurrence(s[0]) for s in slabs])
    S = np.concatenate([np.full(s[0].size, i, dtype=np.int64) for i, s in enumerate(slabs)])
    V = np.concatenate([s[1] for s in slabs])
    order = np.lexsort((S, occ, T))
    T, occ, S, V = T[order], occ[order], S[order], V[order]
    new_row = np.r_[True, (T[1:] != T[:-1]) | (occ[1:] != occ[:-1])]
    row = np.cumsum(new_row) - 1
    cells = [[""] * k for _ in range(int(row[-1]) + 1)]
    for r, s, text in zip(row.tolist(), S.tolist(), _fmt_values(V), strict=False):
        cells[r][s] = text
    times = _fmt_times(T[new_row])
    return "".join(f"{tm},{','.join(c)}\r\n" for tm, c in zip(times, cells, strict=False))


def _long_lines(keys: list[str], slabs: list[Rows]) -> str:
    T = np.concatenate([s[0] for s in slabs])
    if T.size == 0:
        return ""
    S = np.concatenate([np.full(s[0].size, i, dtype=np.int64) for i, s in enumerate(slabs)])
    V = np.concatenate([s[1] for s in slabs])
    order = np.lexsort((S, T))
    T, S, V = T[order], S[order], V[order]
    return "".join(
        f"{keys[s]},{tm},{val}\r\n" for s, tm, val in zip(S.tolist(), _fmt_times(T), _fmt_values(V), strict=False)
    )


async def _merged(sources: list[AsyncIterator[Rows]]) -> AsyncIterator[list[Rows]]:
    """Slabs of rows, all series cut at the same instant, in time order."""
    pending: list[Rows] = [empty_rows()] * len(sources)
    done = [False] * len(sources)
    while True:
        for i, src in enumerate(sources):
            if not done[i] and pending[i][0].size == 0:
                try:
                    pending[i] = await src.__anext__()
                except StopAsyncIteration:
                    done[i] = True
        live = [i for i in range(len(sources)) if pending[i][0].size]
        if not live:
            return
        # Chunks end on timestamp boundaries, so cutting at the smallest chunk
        # end never splits an instant between two slabs.
        # Exhausted sources hold their last rows already and do not limit the cut.
        open_ends = [int(pending[i][0][-1]) for i in live if not done[i]]
        cut = min(open_ends) if open_ends else None
        slab: list[Rows] = []
        for i in range(len(sources)):
            t, v = pending[i]
            j = t.size if cut is None else int(np.searchsorted(t, cut, "right"))
            slab.append((t[:j], v[:j]))
            pending[i] = (t[j:], v[j:])
        yield slab


def _stamp(us: int) -> str:
    return datetime.fromtimestamp(us // 1_000_000, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")


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
    chosen = [lookup(ctx, k, "series") for k in keys]
    window = parse_window(q.get("start"), q.get("end"), ctx.store.newest())
    if window is None:
        # No data anywhere yet: an empty file for the last hour.
        now = int(datetime.now(timezone.utc).timestamp() * 1_000_000)
        window = (now - HOUR_US, now)
    start, end = window
    for spec, series in chosen:
        if not (series.covers(start) or not series.loaded) and ctx.health.state == "down":
            raise ApiError(503, f"the database is unavailable; {spec.key} before the stored range is not in memory")

    if layout == "wide":
        header = "time," + ",".join(_csv_field(spec.label) for spec, _ in chosen) + "\r\n"
    else:
        header = "series,time,value\r\n"

    async def body() -> AsyncIterator[str]:
        yield header
        sources = [_chunks(ctx, spec, series, start, end) for spec, series in chosen]
        try:
            async for slab in _merged(sources):
                yield _wide_lines(slab) if layout == "wide" else _long_lines(keys, slab)
        except CONNECTION_ERRORS:
            # Headers are sent: the best we can do is end the file visibly.
            yield "# export interrupted: the database became unavailable\r\n"

    filename = f"bioreactor_{_stamp(start)}_{_stamp(end)}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
