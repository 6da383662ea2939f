"""Rows shaped like a historian that logs by exception: a sample only when the
value moves past a deadband, no heartbeat. Healthy intervals run from about
2 s (while the value moves) to 246 s (long steady stretches), as on the
temperature signal of issue #7 (p50 a few seconds, p99 near 90 s or more)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

Row = tuple[datetime, float | None]

LONGEST_HEALTHY_S = 246.0


def exception_rows(
    start: datetime,
    end: datetime,
    *,
    base: float,
    step: float,
    seed: int,
    outages: tuple[tuple[datetime, datetime], ...] = (),
) -> list[Row]:
    """Samples from ``start`` to ``end`` of a value wandering around ``base`` by ``step``.

    Intervals: mostly 2-6 s, often up to 30 s, and one in ten a steady
    stretch of 60-246 s. Nothing is written inside ``outages``.
    """
    rnd = random.Random(seed)
    rows: list[Row] = []
    t = start
    v = base
    while t <= end:
        if not any(a < t < b for a, b in outages):
            rows.append((t, round(v, 3)))
        r = rnd.random()
        dt = rnd.uniform(2, 6) if r < 0.6 else rnd.uniform(6, 30) if r < 0.9 else rnd.uniform(60, LONGEST_HEALTHY_S)
        t += timedelta(seconds=round(dt, 3))
        # A deadband crossing: the value moved by at least one step, and drifts back towards base.
        v = base + (v - base) * 0.85 + rnd.choice((-1, 1)) * step
    return rows


def steady(start: datetime, end: datetime, value: float, every_s: float) -> list[Row]:
    """A value that does not change, sampled regularly (a heartbeat-logged signal)."""
    rows: list[Row] = []
    t = start
    while t <= end:
        rows.append((t, value))
        t += timedelta(seconds=every_s)
    return rows
