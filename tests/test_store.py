"""The columnar store: sorted merges, late rows, trimming, resync bookkeeping."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

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
