"""M4: bounded size, exact extremes per column, nulls kept visible."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.downsample import gap_starts, m4, m4_indices


def test_small_inputs_are_returned_whole() -> None:
    t = np.arange(10, dtype=np.int64)
    v = np.arange(10, dtype=np.float64)
    out_t, out_v = m4((t, v), 100)
    assert out_t.tolist() == t.tolist()
    assert out_v.tolist() == v.tolist()


def irregular(seed: int, n: int = 200_000) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Irregularly spaced samples (0.5 to 4 s apart, in µs) of noise."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.integers(500, 4000, n)).astype(np.int64)
    return t, rng.normal(size=n)


def columns_of(t: npt.NDArray[np.int64], columns: int) -> npt.NDArray[np.int64]:
    """The pixel column of each sample: equal widths over the data's range, as tsdownsample bins them."""
    edges = np.linspace(t[0], t[-1], columns + 1)
    col: npt.NDArray[np.int64] = np.clip(np.searchsorted(edges, t, "right") - 1, 0, columns - 1)
    return col


def test_m4_keeps_first_last_min_max_of_every_column() -> None:
    t, v = irregular(seed=1)
    v[123_456] = 50.0
    v[654] = -40.0
    columns = 100
    idx = m4_indices(t, v, columns, has_nulls=False)
    assert np.all(np.diff(idx) > 0)
    assert idx.size <= 4 * columns
    col = columns_of(t, columns)
    for c in range(columns):
        sel = np.flatnonzero(col == c)
        assert sel.size > 4  # every column has more rows than M4 keeps
        m4_of_column = {int(sel[0]), int(sel[-1]), int(sel[np.argmin(v[sel])]), int(sel[np.argmax(v[sel])])}
        kept = set(idx[col[idx] == c].tolist())
        assert kept == m4_of_column, f"column {c}"
    out_t, out_v = m4((t, v), columns, has_nulls=False)
    assert out_t.tolist() == t[idx].tolist()
    assert out_v.tolist() == v[idx].tolist()
    assert 123_456 in idx
    assert 654 in idx


def test_m4_keeps_the_window_s_last_sample() -> None:
    """Regression: the newest row of a downsampled window was dropped for about one
    window in five. tsdownsample computes the last column's upper edge as
    t[0] + columns * (t[-1] / columns - t[0] / columns) in float64, truncated to
    an integer; when rounding brought that below t[-1], the last sample fell
    outside every column. m4_indices now always keeps the first and last rows."""
    t, v = irregular(seed=7)
    idx = m4_indices(t, v, 100, has_nulls=False)
    assert idx[0] == 0
    assert idx[-1] == t.size - 1


def test_nulls_survive_downsampling() -> None:
    t = np.arange(100_000, dtype=np.int64) * 1000
    v = np.ones(t.size)
    v[50_000] = np.nan
    out_t, out_v = m4((t, v), 100)
    assert np.isnan(out_v).sum() == 1
    assert int(out_t[np.isnan(out_v)][0]) == 50_000_000


def test_gap_starts_keeps_the_longest_and_the_earliest_of_equals() -> None:
    # Gaps of 50, 90, 50, 90, 50 after rows 0, 1, 2, 3, 4 (with 1-µs steps between).
    t = np.cumsum(np.array([0, 50, 90, 50, 90, 50, 1, 1], dtype=np.int64))
    assert gap_starts(t, 10, limit=10).tolist() == [0, 1, 2, 3, 4]
    assert gap_starts(t, 10, limit=3).tolist() == [0, 1, 3]
    assert gap_starts(t, 60, limit=1).tolist() == [1]
    s, e = t[[0, 1, 2, 3, 4]], t[[1, 2, 3, 4, 5]]
    assert gap_starts(t, 10, limit=3, known=(s, e)).tolist() == [0, 1, 3]


def test_gap_starts_scans_when_the_known_gaps_do_not_fit_the_rows() -> None:
    """The index describes the store; rows read from elsewhere are scanned instead."""
    t = np.array([0, 100, 101, 300], dtype=np.int64)
    stale = (np.array([101, 5000], dtype=np.int64), np.array([300, 6000], dtype=np.int64))
    assert gap_starts(t, 50, limit=10, known=stale).tolist() == [0, 2]


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(st.integers(0, 5), min_size=30, max_size=400),
    nulls=st.lists(st.integers(0, 399), max_size=30),
    columns=st.integers(2, 20),
)
def test_m4_keeps_the_same_nulls_from_the_store_s_null_times(steps: list[int], nulls: list[int], columns: int) -> None:
    """NULL rows found from their times (no scan) give the same M4 as a scan, duplicates included."""
    t = np.cumsum(np.array(steps, dtype=np.int64))
    v = np.sin(t.astype(np.float64))
    v[[i for i in nulls if i < t.size]] = np.nan
    null_times = t[np.isnan(v)]
    scanned = m4_indices(t, v, columns, has_nulls=True)
    assert m4_indices(t, v, columns, has_nulls=True, null_times=null_times).tolist() == scanned.tolist()
