"""M4 downsampling: per pixel column keep the first, last, min and max sample.

A line drawn through M4 points is pixel-identical to one drawn through every
row, so spikes survive however wide the window. The kernel is tsdownsample's
(Rust, SIMD): about 11 ms for 10 M points on these machines.
"""

from __future__ import annotations

import numpy as np
from tsdownsample import M4Downsampler

from realtime.rows import F64, I64, Rows

__all__ = ["gap_starts", "m4", "m4_indices"]

_M4 = M4Downsampler()  # type: ignore[no-untyped-call]


def m4_indices(t: I64, v: F64, columns: int, *, has_nulls: bool, null_times: I64 | None = None) -> I64:
    """Indices (sorted) of the M4 samples of (t, v) over ``columns`` pixel columns.

    ``null_times``: the times of the NULL rows, when the store knows them
    (``SeriesData.null_times``); otherwise the window is scanned for them.
    """
    n = int(t.size)
    if n <= 4 * columns:
        return np.arange(n, dtype=np.int64)
    idx = np.asarray(_M4.downsample(t, v, n_out=4 * columns), dtype=np.int64)
    # tsdownsample computes its bins' edges in floating point: the last one can fall
    # short of the last timestamp, leaving the window's last sample in no bin.
    idx = np.union1d(idx, [0, n - 1])
    if has_nulls:
        # Keep one NULL per column that has one, so the chart shows the break.
        nulls = _null_rows(t, v, null_times)
        if nulls.size:
            span = max(int(t[-1]) - int(t[0]), 1)
            column = (t[nulls] - t[0]) * columns // (span + 1)
            _, first = np.unique(column, return_index=True)
            idx = np.union1d(idx, nulls[first])
    return np.unique(idx)


def _null_rows(t: I64, v: F64, null_times: I64 | None) -> I64:
    """Indices of NULL rows: at least the first of each column's, which is all M4 keeps."""
    if null_times is not None:
        rows: I64 = np.searchsorted(t, null_times, "left")
        # Each must be a NULL row of ``t`` at that time; a NULL that shares its instant with a
        # value, or rows that are not the store's, are found by the scan instead.
        if rows.size == 0 or (
            int(rows[-1]) < t.size and np.array_equal(t[rows], null_times) and bool(np.isnan(v[rows]).all())
        ):
            return rows
    scanned: I64 = np.flatnonzero(np.isnan(v))
    return scanned


def gap_starts(t: I64, gap_us: int, limit: int, *, known: tuple[I64, I64] | None = None) -> I64:
    """Indices i where t[i+1] - t[i] > gap_us: real outages, at most ``limit`` (the longest).

    ``known`` are the (from, to) times of those outages when the store's gap
    index has them (``SeriesData.long_gaps``): then no pass over ``t`` is made.
    """
    if known is not None:
        s, e = known
        chosen = _longest(e - s, limit)
        s, e = s[chosen], e[chosen]
        idx: I64 = np.searchsorted(t, s, "right") - 1
        # The index describes the store's rows; check that ``t`` is a window of those same rows.
        inside = idx.size == 0 or (int(idx[0]) >= 0 and int(idx[-1]) + 1 < t.size)
        if inside and np.array_equal(t[idx], s) and np.array_equal(t[idx + 1], e):
            return idx
    d = np.diff(t)
    idx = np.flatnonzero(d > gap_us)
    return idx[_longest(d[idx], limit)]


def _longest(lengths: I64, limit: int) -> I64:
    """Positions (in order) of the ``limit`` longest; the earliest win ties, so the choice is reproducible."""
    if lengths.size <= limit:
        return np.arange(lengths.size, dtype=np.int64)
    # Too many to draw each: the longest ones are the ones a reader sees.
    chosen: I64 = np.sort(np.argsort(-lengths, kind="stable")[:limit])
    return chosen


def m4(
    rows: Rows, columns: int, *, has_nulls: bool = True, keep: I64 | None = None, null_times: I64 | None = None
) -> Rows:
    """M4 of ``rows``; ``keep`` are indices that must survive (e.g. both ends of each outage)."""
    t, v = rows
    idx = m4_indices(t, v, columns, has_nulls=has_nulls, null_times=null_times)
    if keep is not None and keep.size:
        idx = np.union1d(idx, keep)
    return t[idx], v[idx]
