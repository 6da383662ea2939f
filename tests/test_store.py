"""The columnar store: sorted merges, late rows, trimming, resync bookkeeping."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.cadence import FLOOR_US
from realtime.downsample import gap_starts
from realtime.store import MemoryPolicy, SeriesData, SeriesState, Store


def arr(*xs: float) -> npt.NDArray[np.float64]:
    return np.array(xs, dtype=np.float64)


def ts(*xs: int) -> npt.NDArray[np.int64]:
    return np.array(xs, dtype=np.int64)


def loaded(t: list[int], v: list[float] | None = None, policy: MemoryPolicy | None = None) -> SeriesData:
    s = SeriesData("x", policy=policy)
    tt = np.array(t, dtype=np.int64)
    vv = np.array(v if v is not None else [float(i) for i in range(len(t))], dtype=np.float64)
    s.replace((tt, vv), covered_from=None)
    return s


def state(s: SeriesData) -> SeriesState:
    return s.state


def test_appends_in_order_and_grows() -> None:
    s = loaded([])
    assert state(s) == "empty"
    for i in range(10_000):
        batch = s.merge(ts(i * 10), arr(float(i)))
        assert batch is not None
        assert not batch.late
    assert s.n == 10_000
    assert state(s) == "ok"
    assert np.all(np.diff(s.t) > 0)
    assert s.v[-1] == 9999.0


def test_late_rows_are_merged_in_place_and_flagged() -> None:
    s = loaded([10, 20, 30, 40], [1, 2, 3, 4])
    batch = s.merge(ts(25, 5), arr(9, 8))
    assert batch is not None
    assert batch.late
    assert s.t.tolist() == [5, 10, 20, 25, 30, 40]
    assert s.v.tolist() == [8, 1, 2, 9, 3, 4]
    assert batch.t.tolist() == [5, 25]  # sorted for the client too


def test_equal_timestamps_keep_arrival_order() -> None:
    s = loaded([10, 20], [1, 2])
    batch = s.merge(ts(20, 20), arr(3, 4))
    assert batch is not None
    assert batch.late
    assert s.t.tolist() == [10, 20, 20, 20]
    assert s.values_at(20).tolist() == [2, 3, 4]


def test_bounds_are_inclusive_and_rows_after_is_strict() -> None:
    s = loaded([10, 20, 20, 30])
    assert s.bounds(20, 20) == (1, 3)
    assert s.bounds(0, 9) == (0, 0)
    t, _ = s.rows_after(20)
    assert t.tolist() == [30]


def test_nulls_are_counted() -> None:
    s = loaded([1, 2], [1.0, float("nan")])
    assert s.null_count == 1
    s.merge(ts(3), arr(float("nan")))
    assert s.null_count == 2


def test_trim_to_budget_moves_coverage_and_keeps_counts() -> None:
    s = loaded(list(range(0, 1000, 1)), policy=MemoryPolicy(max_points=500))
    # Trimmed a little below the budget, so trimming is rare.
    assert s.n == 500 - 500 // 20
    assert s.count == 1000
    assert s.covered_from == int(s.t[0])
    assert s.first == 0  # the table's first row is still known
    assert s.covers(int(s.t[0]))
    assert not s.covers(0)
    # Appends after trimming reuse the freed prefix.
    s.merge(ts(5000), arr(1.0))
    assert s.t[-1] == 5000
    assert np.all(np.diff(s.t) >= 0)


def test_trim_never_splits_an_instant() -> None:
    """Over budget by two rows, the cut would fall between rows at t=2: it moves
    back to keep all three, even though that leaves the store over budget."""
    s = loaded([1, 2, 2, 2, 3], policy=MemoryPolicy(max_points=3))
    assert s.t.tolist() == [2, 2, 2, 3]
    assert s.covered_from == 2
    assert s.rows_before == 1


def test_trim_by_horizon_on_load_and_on_merge() -> None:
    s = loaded([0, 100, 200, 300], policy=MemoryPolicy(horizon_us=150))
    assert s.t.tolist() == [200, 300]
    assert s.covered_from == 200
    s.merge(ts(400), arr(1.0))
    assert s.t.tolist() == [300, 400]
    assert s.covered_from == 300
    assert s.count == 5


def test_state_is_owned_by_the_store() -> None:
    s = loaded([1])
    assert s.mark("error", "permission denied")
    assert not s.mark("error", "permission denied")  # not news the second time
    s.unload()
    assert not s.loaded
    assert s.covers(1)  # the rows it holds still answer for their range
    s.replace((ts(1, 2), arr(1, 2)), covered_from=None)
    assert (state(s), s.error, s.loaded) == ("ok", None, True)


def test_needs_resync_only_when_the_rows_up_to_since_differ() -> None:
    s = loaded([10, 20, 30])
    seq = s.seq  # a client holds these three rows; its newest is 30
    assert seq == 3
    s.merge(ts(40), arr(1))
    assert not s.needs_resync(since=30, seq=seq)  # a replay covers it
    s.merge(ts(15), arr(1))
    assert s.needs_resync(since=30, seq=seq)  # backfilled behind its newest row: reload
    assert not s.needs_resync(since=10, seq=1)  # the late row is after since: the replay has it
    assert s.needs_resync(since=30, seq=9)  # it holds rows we do not: reload too


def test_cadence_is_measured_on_load_and_after_new_rows() -> None:
    s = loaded([i * 1_000_000 for i in range(100)])
    assert s.cadence().median_us == 1_000_000
    assert s.cadence().outage_us == 10_000_000  # the 10 s floor
    s.merge(ts(*(100_000_000 + i * 30_000_000 for i in range(200))), np.zeros(200))
    # Measured again at once: the last one was made from a smaller sample.
    assert s.cadence().median_us == 30_000_000


def test_seq_means_the_same_in_every_process() -> None:
    """Regression (replicas): seq was a per-process counter started from the
    clock, so a browser whose snapshot came from one replica and live feed from
    another compared numbers that meant nothing to each other. Seq is now the
    number of rows of the table a process knows, whatever the batches were."""
    one = Store(["x"])["x"]
    one.replace((ts(10, 20), arr(1, 2)), covered_from=None)
    one.merge(ts(30, 40), arr(3, 4))
    other = Store(["x"])["x"]
    other.replace((ts(10, 20, 30), arr(1, 2, 3)), covered_from=None)
    other.merge(ts(40), arr(4))
    assert one.seq == other.seq == 4


# -- the gap index -------------------------------------------------------------

# Intervals around the index's floor (10 s): many shorter, some longer, some equal, duplicates.
_steps = st.one_of(
    st.integers(0, 3_000_000),
    st.sampled_from([0, FLOOR_US - 1, FLOOR_US, FLOOR_US + 1]),
    st.integers(FLOOR_US - 2_000_000, 90_000_000),
)


def _times(steps: list[int], t0: int = 0) -> npt.NDArray[np.int64]:
    return (t0 + np.cumsum(np.array(steps, dtype=np.int64))).astype(np.int64)


def _brute(t: npt.NDArray[np.int64], gap_us: int) -> tuple[list[int], list[int]]:
    i = np.flatnonzero(np.diff(t) > gap_us)
    return t[i].tolist(), t[i + 1].tolist()


def _check_index(s: SeriesData) -> None:
    assert (s.gaps.starts.tolist(), s.gaps.ends.tolist()) == _brute(s.t, FLOOR_US)
    nulls = s.t[np.isnan(s.v)]
    assert s.null_count == nulls.size
    if s.n:
        # Rows merged behind the store's coverage are held but not answered for: start where it covers.
        start = max(int(s.t[0]), s.covered_from if s.covered_from is not None else int(s.t[0]))
        held = s.null_times(start, int(s.t[-1]))
        assert held is not None
        assert held.tolist() == nulls[nulls >= start].tolist()


def _values(t: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Some rows NULL (NaN), the others not."""
    return np.where(t % 7 == 0, np.nan, 1.0)


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.lists(_steps, min_size=1, max_size=20)),
        # A late batch: rows anywhere from before the first to after the newest, any order.
        st.tuples(st.just("late"), st.lists(st.integers(-30_000_000, 400_000_000), min_size=1, max_size=10)),
        st.tuples(st.just("reload"), st.lists(_steps, max_size=60)),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(
    first=st.lists(_steps, max_size=80),
    ops=_ops,
    max_points=st.integers(5, 200),
    horizon=st.none() | st.integers(20_000_000, 600_000_000),
)
def test_gap_and_null_indexes_match_a_scan_through_appends_late_merges_and_trims(
    first: list[int], ops: list[tuple[str, list[int]]], max_points: int, horizon: int | None
) -> None:
    s = SeriesData("x", policy=MemoryPolicy(max_points=max_points, horizon_us=horizon))
    t = _times(first)
    s.replace((t, _values(t)), covered_from=None)
    _check_index(s)
    for op, xs in ops:
        if op == "append":
            newest = s.newest if s.newest is not None else 0
            t = _times(xs, newest)
            s.merge(t, _values(t))
        elif op == "late":
            t = np.array(xs, dtype=np.int64) + (s.oldest or 0)
            s.merge(t, _values(t))
        else:
            t = _times(xs, s.newest or 0)
            s.replace((t, _values(t)), covered_from=None)
        _check_index(s)
        assert np.all(np.diff(s.t) >= 0)


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(_steps, min_size=1, max_size=120),
    late=st.lists(st.integers(0, 600_000_000), max_size=10),
    gap_us=st.sampled_from([FLOOR_US - 1, FLOOR_US, FLOOR_US + 1, 20_000_000, 60_000_000]),
    window=st.tuples(st.integers(-10_000_000, 700_000_000), st.integers(0, 700_000_000)),
    limit=st.integers(1, 8),
)
def test_window_gaps_from_the_index_equal_the_scan(
    steps: list[int], late: list[int], gap_us: int, window: tuple[int, int], limit: int
) -> None:
    """What /data draws: the gaps inside a window, the longest ``limit`` of them."""
    s = loaded(_times(steps).tolist())
    if late:
        s.merge(np.array(late, dtype=np.int64), np.zeros(len(late)))
    start, end = min(window), max(window)
    known = s.long_gaps(start, end, gap_us)
    if gap_us < FLOOR_US:
        assert known is None  # below the floor the index cannot answer
        return
    assert known is not None
    i0, i1 = s.bounds(start, end)
    t = s.t[i0:i1]
    assert (known[0].tolist(), known[1].tolist()) == _brute(t, gap_us)
    scanned = gap_starts(t, gap_us, limit)
    assert gap_starts(t, gap_us, limit, known=known).tolist() == scanned.tolist()


def test_the_index_is_not_used_for_rows_it_does_not_hold() -> None:
    s = loaded([0, 20_000_000, 40_000_000, 60_000_000], policy=MemoryPolicy(max_points=2))
    assert s.long_gaps(int(s.t[0]), 60_000_000, FLOOR_US) is not None
    assert s.long_gaps(0, 60_000_000, FLOOR_US) is None  # older rows come from SQL: scan those
