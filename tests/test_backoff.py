"""Retry delays: exponential growth to a cap, full jitter within bounds, reset."""

from __future__ import annotations

import random

import pytest

from realtime.backoff import Backoff


def test_delays_follow_the_ceiling_with_jitter_drawn_from_the_rng() -> None:
    b = Backoff(0.1, 1.0, rng=random.Random(3))
    same = random.Random(3)
    ceilings = [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    for attempt, ceiling in enumerate(ceilings, start=1):
        assert b.next() == ceiling * (0.5 + 0.5 * same.random())
        assert b.attempts == attempt


def test_delays_grow_and_are_capped() -> None:
    b = Backoff(0.5, 5.0)
    delays = [b.next() for _ in range(20)]
    # Each ceiling doubles, and a delay is at least half its ceiling: never shorter than the one before.
    assert delays[:4] == sorted(delays[:4])
    assert 0.25 <= delays[0] <= 0.5
    assert 2.0 <= delays[3] <= 4.0
    assert all(2.5 <= d <= 5.0 for d in delays[4:])


def test_jitter_spreads_over_the_upper_half_of_the_ceiling() -> None:
    b = Backoff(1.0, 1.0, rng=random.Random(11))
    delays = [b.next() for _ in range(2000)]
    assert 0.5 <= min(delays) < 0.51
    assert 0.99 < max(delays) <= 1.0
    # Spread evenly, not clustered: a quarter of the draws in each quarter of the range.
    quarters = [sum(0.5 + q * 0.125 <= d < 0.5 + (q + 1) * 0.125 for d in delays) for q in range(4)]
    assert all(400 < n < 600 for n in quarters), quarters


def test_reset_starts_again_from_the_initial_delay() -> None:
    b = Backoff(0.2, 3.0, rng=random.Random(5))
    for _ in range(6):
        b.next()
    assert b.next() >= 1.5  # at the cap by now
    b.reset()
    assert b.attempts == 0
    assert 0.1 <= b.next() <= 0.2
    assert 0.2 <= b.next() <= 0.4
    assert b.attempts == 2


@pytest.mark.parametrize(("initial", "maximum"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_bad_bounds_are_refused(initial: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="need 0 < initial <= maximum"):
        Backoff(initial, maximum)
