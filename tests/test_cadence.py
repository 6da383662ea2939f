"""When a silence is an outage: thresholds from a series' own interval distribution."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from realtime.cadence import measure, thresholds
from realtime.config import PgSettings, Settings
from realtime.series import SeriesSpec

S = 1_000_000
SETTINGS = Settings(pg=PgSettings("h", 5432, "u", "", "d"))
SPEC = SeriesSpec("x", "t", "X")


def times(intervals_s: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    return np.concatenate(([0], np.cumsum(np.round(intervals_s * S)))).astype(np.int64)


def exception_logged(rng: np.random.Generator, n: int = 2420) -> npt.NDArray[np.float64]:
    """Intervals shaped like the measured temperature run: p50 4 s, p90 19 s, p99 89 s, max 246 s."""
    d = rng.lognormal(np.log(4.0), 1.25, n)
    d[rng.choice(n, 3, replace=False)] = [150.0, 200.0, 246.0]  # the long steady stretches
    return np.clip(d, 1.0, 246.0)


def test_an_exception_logged_signal_is_not_broken_by_its_steady_stretches() -> None:
    d = exception_logged(np.random.default_rng(7))
    p50, p90, p99 = np.quantile(d, [0.5, 0.9, 0.99])
    # The profile we claim to model.
    assert 3 < p50 < 5
    assert 12 < p90 < 25
    assert 60 < p99 < 120
    cadence = measure(times(d))
    assert cadence.outage_us is not None
    # Above the longest healthy interval: no false break, no false Stale.
    assert cadence.outage_us > 246 * S
    assert cadence.outage_us < 480 * S


def test_a_regular_signal_breaks_at_a_four_minute_outage() -> None:
    rng = np.random.default_rng(3)
    d = rng.uniform(1.0, 6.0, 5000)
    d[2500] = 240.0  # the sensor stopped for four minutes
    cadence = measure(times(d))
    assert cadence.outage_us is not None
    assert 10 * S <= cadence.outage_us < 60 * S  # flagged within a minute, and the outage breaks the line


def test_one_outage_in_a_short_history_does_not_hide_itself() -> None:
    d = np.ones(69)
    d[40] = 1800.0
    assert measure(times(d)).outage_us == 10 * S  # the floor: 4 x p99 of 1 s samples


def test_too_little_history_says_so() -> None:
    cadence = measure(times(np.ones(5)))
    assert (cadence.median_us, cadence.outage_us) == (S, None)
    rules = thresholds(SPEC, SETTINGS, cadence)
    assert rules.gap_us == rules.stale_us == 60 * S


def test_configured_values_win_series_first() -> None:
    cadence = measure(times(np.ones(100)))
    assert thresholds(SPEC, SETTINGS, cadence).gap_us == 10 * S
    settings = Settings(pg=SETTINGS.pg, gap_after=30.0, stale_after=45.0, interpolation="linear")
    rules = thresholds(SPEC, settings, cadence)
    assert (rules.gap_us, rules.stale_us, rules.interpolation) == (30 * S, 45 * S, "linear")
    spec = SeriesSpec("x", "t", "X", gap_after=5.0, interpolation="step")
    rules = thresholds(spec, settings, cadence)
    assert (rules.gap_us, rules.stale_us, rules.interpolation) == (5 * S, 45 * S, "step")
