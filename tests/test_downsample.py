"""M4: bounded size, exact extremes per column, nulls kept visible."""

from __future__ import annotations

import numpy as np

from realtime.downsample import m4


def test_small_inputs_are_returned_whole() -> None:
    t = np.arange(10, dtype=np.int64)
    v = np.arange(10, dtype=np.float64)
    out_t, out_v = m4((t, v), 100)
    assert out_t.tolist() == t.tolist()
    assert out_v.tolist() == v.tolist()


def test_m4_keeps_first_last_min_max_of_every_column() -> None:
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.integers(500, 4000, 200_000)).astype(np.int64)
    v = rng.normal(size=t.size)
    v[123_456] = 50.0
    v[654] = -40.0
    columns = 100
    out_t, out_v = m4((t, v), columns)
    assert out_t.size <= 4 * columns
    assert np.all(np.diff(out_t) >= 0)
    assert out_t[0] == t[0]
    assert out_t[-1] == t[-1]
    assert out_v.max() == 50.0
    assert out_v.min() == -40.0
    # Per column (as tsdownsample bins: equal widths over the data's range),
    # the column's extremes are among the output.
    edges = np.linspace(t[0], t[-1], columns + 1)
    col = np.clip(np.searchsorted(edges, t, "right") - 1, 0, columns - 1)
    kept = set(out_t.tolist())
    for c in range(0, columns, 7):
        sel = np.flatnonzero(col == c)
        if sel.size:
            assert int(t[sel[np.argmax(v[sel])]]) in kept or np.isclose(v[sel].max(), out_v[out_t >= t[sel[0]]].max())


def test_nulls_survive_downsampling() -> None:
    t = np.arange(100_000, dtype=np.int64) * 1000
    v = np.ones(t.size)
    v[50_000] = np.nan
    out_t, out_v = m4((t, v), 100)
    assert np.isnan(out_v).sum() == 1
    assert int(out_t[np.isnan(out_v)][0]) == 50_000_000
