"""Finding rows the historian wrote behind the newest one: store-and-forward backfill.

After a network outage a historian forwards its buffered rows with their old
timestamps, minutes or days late. Polling for ``time >= newest`` never sees
them. Instead, row counts per time bucket are compared between the table and
the store, and only the buckets that differ are read:

* every ``RECONCILE_INTERVAL`` (5 s), per-minute counts over the last
  ``RECONCILE_HORIZON`` (1 h): a recent late row appears within seconds;
* every ``SWEEP_INTERVAL`` (5 min), per-hour counts over everything the store
  holds, then per-minute counts inside the hours that differ: a row
  backfilled a day or a month late appears within minutes.

Rows within a bucket are compared as a multiset of (time, value), so a late
row sharing a timestamp with a stored one is still found. Each merge is
logged with the range it filled.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable

import numpy as np

from realtime.db import Conn, SeriesSql, read_rows
from realtime.rows import Rows
from realtime.store import SeriesData
from realtime.times import HOUR_US, MINUTE_US, dt_from_us, format_iso

__all__ = ["find_late_rows", "missing"]

log = logging.getLogger(__name__)

# Minutes read per round, so a big backfill spreads over several rounds.
MAX_MINUTES_PER_ROUND = 240


def _value_key(x: float) -> float | None:
    return None if math.isnan(x) else x


def missing(db: Iterable[tuple[int, float]], have: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    """Rows in ``db`` beyond those in ``have``, as a multiset (NaN equals NaN)."""
    remaining = Counter((t, _value_key(v)) for t, v in have)
    out: list[tuple[int, float]] = []
    for t, v in db:
        k = (t, _value_key(v))
        if remaining[k] > 0:
            remaining[k] -= 1
        else:
            out.append((t, v))
    return out


def pairs(rows: Rows) -> list[tuple[int, float]]:
    return list(zip(rows[0].tolist(), rows[1].tolist(), strict=False))


def _store_counts(series: SeriesData, lo: int | None, hi: int, bucket: int) -> dict[int, int]:
    i0 = 0 if lo is None else int(np.searchsorted(series.t, lo, "left"))
    i1 = int(np.searchsorted(series.t, hi, "left"))
    buckets, counts = np.unique(series.t[i0:i1] // bucket, return_counts=True)
    return dict(zip(buckets.tolist(), counts.tolist(), strict=False))


async def _differing(conn: Conn, sql: SeriesSql, series: SeriesData, lo: int | None, hi: int, bucket: int) -> list[int]:
    """Buckets of [lo, hi) whose row counts differ between the table and the store, oldest first."""
    args = (dt_from_us(hi),) if lo is None else (dt_from_us(lo), dt_from_us(hi))
    records = await conn.fetch(sql.bucket_counts(bucket // 1_000_000, whole_table=lo is None), *args)
    db_counts = {int(r["bucket"]): int(r["n"]) for r in records}
    have = _store_counts(series, lo, hi, bucket)
    return sorted(b for b in db_counts.keys() | have.keys() if db_counts.get(b) != have.get(b))


async def find_late_rows(
    conn: Conn, sql: SeriesSql, series: SeriesData, *, horizon_us: int, sweep: bool
) -> tuple[list[tuple[int, float]], bool]:
    """Rows in the table that the store lacks, behind its newest row.

    Returns the rows and whether rows seem to have been deleted from the table
    (the store keeps them). ``sweep`` looks over everything the store holds by
    the hour; otherwise only the last ``horizon_us`` by the minute.
    """
    newest = series.newest
    if newest is None:
        return [], False
    floor = None if series.covered_from is None else -(-series.covered_from // HOUR_US) * HOUR_US
    minutes: list[int] = []
    if sweep:
        hours = await _differing(conn, sql, series, floor, newest, HOUR_US)
        for hour in hours:
            a = hour * HOUR_US if floor is None else max(hour * HOUR_US, floor)
            minutes += await _differing(conn, sql, series, a, min((hour + 1) * HOUR_US, newest), MINUTE_US)
            if len(minutes) >= MAX_MINUTES_PER_ROUND:
                break
    else:
        lo = (newest - horizon_us) // MINUTE_US * MINUTE_US
        if series.covered_from is not None:
            lo = max(lo, -(-series.covered_from // MINUTE_US) * MINUTE_US)
        if lo < newest:
            minutes = await _differing(conn, sql, series, lo, newest, MINUTE_US)
    new: list[tuple[int, float]] = []
    deleted = False
    for minute in minutes[:MAX_MINUTES_PER_ROUND]:
        a, b = minute * MINUTE_US, min((minute + 1) * MINUTE_US, newest)
        db_rows = await read_rows(conn, sql.rows_between(end_inclusive=False), dt_from_us(a), dt_from_us(b))
        j0, j1 = series.bounds(a, b - 1)
        deleted = deleted or db_rows[0].size < j1 - j0
        new.extend(missing(pairs(db_rows), pairs((series.t[j0:j1], series.v[j0:j1]))))
    if new:
        first, last = min(r[0] for r in new), max(r[0] for r in new)
        log.info(
            "series %s: %s found %d late rows from %s to %s",
            series.key,
            "the sweep" if sweep else "reconciliation",
            len(new),
            format_iso(first),
            format_iso(last),
        )
    return new, deleted
