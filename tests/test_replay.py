"""The shared replay cache: one build per (series, since, seq), bounded, and forgetting what can no longer be asked."""

from __future__ import annotations

import numpy as np

from realtime.replay import Replays
from realtime.store import SeriesData


def series_with(n: int) -> SeriesData:
    s = SeriesData("ph")
    s.merge(np.arange(1, n + 1, dtype=np.int64) * 1000, np.arange(n, dtype=np.float64))
    return s


def test_viewers_asking_the_same_replay_share_one_build() -> None:
    replays = Replays(64 * 1024 * 1024)
    s = series_with(1000)
    first = replays.get(s, 500_000)
    assert replays.get(s, 500_000) is first
    assert (replays.built, replays.shared) == (1, 1)
    assert replays.get(s, 0) is not first  # another since, another replay
    assert replays.built == 2


def test_a_change_to_the_series_drops_its_older_replays_and_their_bytes() -> None:
    replays = Replays(64 * 1024 * 1024)
    s, other = series_with(1000), SeriesData("do")
    other.merge(np.array([1000], dtype=np.int64), np.array([1.0]))
    replays.get(s, 0)
    replays.get(s, 500_000)
    kept = replays.get(other, 0)
    s.merge(np.array([2_000_000], dtype=np.int64), np.array([9.0]))
    fresh = replays.get(s, 0)
    assert replays.bytes == 2 * (fresh.size + kept.size)
    assert replays.get(other, 0) is kept


def test_the_cache_stays_within_its_bytes() -> None:
    s = series_with(2000)
    one = Replays(1 << 30).get(s, 0).size
    replays = Replays(16 * one)
    for since in range(0, 40_000, 1000):
        replays.get(s, since)
        assert replays.bytes <= replays.max_bytes
    assert replays.bytes > 0
