"""How often a series is sampled, and from that, when a silence is an outage.

Historians log by exception: a sample is written when the value moves past
a deadband, with no heartbeat. A healthy temperature signal may go four
minutes without a row while its median interval is 4 s, so "ten median
intervals" calls a steady signal dead. The thresholds here come from the
tail of the series' own interval distribution instead: a silence is an
outage when it is well beyond what the series does when it is healthy.

    outage threshold = max(4 x p99, 2 x p99.9, 10 s) of the recent intervals

On a 6-hour exception-logged temperature run (p99 89 s, max 246 s) that is
about 6 minutes, so no steady stretch breaks the line (the longest healthy
interval is under three times p99 in such runs; four leaves room for a
sample that happens to hold fewer long stretches); on a series sampled every
1-6 s it is under half a minute, so a real 4-minute outage does. The same
threshold decides when the latest value is stale. Either can be set per
series (``SERIES_FILE``) or for all (``GAP_AFTER``, ``STALE_AFTER``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime.config import Settings
from realtime.rows import I64
from realtime.series import SeriesSpec

__all__ = ["Cadence", "Thresholds", "measure", "thresholds"]

# Intervals looked at: the newest ones, enough for a stable p99.9.
SAMPLE_INTERVALS = 20_000
# Fewer intervals than this say too little about the tail.
MIN_INTERVALS = 20
FLOOR_US = 10_000_000
# Until a series has enough history, a silence this long counts as an outage.
UNKNOWN_US = 60_000_000


@dataclass(frozen=True)
class Cadence:
    """A series' recent sampling, in µs; ``None`` while it has too few rows."""

    median_us: float | None
    p99_us: float | None
    outage_us: int | None


@dataclass(frozen=True)
class Thresholds:
    """What the page uses: when a line breaks, when a value is stale, how to draw between samples."""

    gap_us: int
    stale_us: int
    interpolation: str
    derived: bool


def measure(t: I64) -> Cadence:
    """The interval distribution of the newest rows of a sorted time column."""
    d = np.diff(t[-(SAMPLE_INTERVALS + 1) :])
    d = d[d > 0]  # rows sharing an instant are one sample time
    if d.size < MIN_INTERVALS:
        median = float(np.median(d)) if d.size else None
        return Cadence(median_us=median, p99_us=None, outage_us=None)
    # "lower": a quantile is an observed interval, never one interpolated
    # towards the largest, so the one or two real outages a sample may hold
    # cannot pull the threshold up over themselves.
    median, p99, p999 = (float(x) for x in np.quantile(d, [0.5, 0.99, 0.999], method="lower"))
    outage = max(4 * p99, 2 * p999, FLOOR_US)
    return Cadence(median_us=median, p99_us=p99, outage_us=round(outage))


def thresholds(spec: SeriesSpec, settings: Settings, cadence: Cadence) -> Thresholds:
    """Configured values win (the series', then the global one); otherwise the derived ones."""
    derived = cadence.outage_us if cadence.outage_us is not None else UNKNOWN_US
    gap = spec.gap_after if spec.gap_after is not None else settings.gap_after
    stale = spec.stale_after if spec.stale_after is not None else settings.stale_after
    return Thresholds(
        gap_us=round(gap * 1_000_000) if gap is not None else derived,
        stale_us=round(stale * 1_000_000) if stale is not None else derived,
        interpolation=spec.interpolation or settings.interpolation,
        derived=gap is None or stale is None,
    )
