"""When each series is read, and which readings the historian writes.

A series is logged in one of two ways, chosen per series:

- **regular**: a reading every few seconds on a jittery clock (log-normal
  around a median), with an occasional gap of 20 s to 4 min, and every
  reading written. The pH, DO and pressure tables look like this.
- **exception** (report by exception): the instrument is read on its scan
  clock (1 s), the reading is quantised to its resolution, and a row is
  written only when the reading has moved by at least the deadband since the
  last *written* row. There is no heartbeat: while the value holds, nothing
  is written, for minutes if the process is steady. A long interval then
  means "no change", not "no data", and consecutive rows differ by at least
  the deadband. Plant temperature is logged like this: over a healthy 6-hour
  run its intervals were p50 4 s, p90 19 s, p99 89 s, max 246 s, each long
  one ending in a single step of 0.0014 °C.

A historian writes the current value when it (re)connects, so the first scan
after a start or an outage is always written. An outage (:class:`Outage` in a
backfill, ``Simulator.interrupt`` live) is a real hole: the process runs on,
nothing is written. Backfill and the live writer read through the same
:meth:`Feed.read`, so both give the same shapes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from realtime.series import SeriesSpec
from realtime.sim import models

__all__ = ["SAMPLINGS", "Feed", "Outage", "Profile", "Sampling", "bulk_intervals", "check_sampling", "profile"]

Sampling: TypeAlias = Literal["regular", "exception"]
SAMPLINGS: tuple[Sampling, ...] = ("regular", "exception")

_Ints: TypeAlias = "npt.NDArray[np.int64]"

_GAP_MIN, _GAP_MAX = 20.0, 240.0  # seconds; the measured run had gaps up to ~4 min


@dataclass(frozen=True)
class Profile:
    """How a series is read and logged; the fields of the other mode are ignored."""

    interval: float  # regular: median seconds between rows
    jitter: float = 0.35  # regular: log-normal sigma of the interval
    gaps_per_hour: float = 1.0  # regular
    quantum: float | None = None  # instrument resolution, in both modes
    sampling: Sampling = "regular"  # the default mode
    scan: float = 1.0  # exception: seconds between readings
    # exception: how far a reading must move from the last written row; None is one quantum.
    # Without a quantum, readings are quantised to the deadband itself.
    deadband: float | None = None


_PROFILES: Mapping[str, Profile] = {
    "temperature": Profile(2.0, quantum=0.0014, sampling="exception"),
    "ph": Profile(3.0, deadband=0.002),
    "do": Profile(1.0, deadband=0.05),
    "pressure": Profile(3.8, quantum=0.002),
}


def profile(key: str) -> Profile:
    """The profile of a series key; any other key is read regularly every 2 s."""
    return _PROFILES.get(key, Profile(2.0))


def check_sampling(sampling: Mapping[str, str]) -> dict[str, Sampling]:
    """``sampling`` with each mode checked, for the callers that take a per-series choice."""
    checked: dict[str, Sampling] = {}
    for key, mode in sampling.items():
        if mode not in SAMPLINGS:
            raise ValueError(f"sampling of {key!r} must be one of {', '.join(SAMPLINGS)}, not {mode!r}")
        checked[key] = "exception" if mode == "exception" else "regular"
    return checked


@dataclass(frozen=True)
class Outage:
    """A real hole in one series: nothing written from ``start`` for ``seconds``.

    A naive ``start`` is wall time in the data zone, like a backfill's ``end``.
    """

    key: str
    start: datetime
    seconds: float


def _intervals_ms(rng: np.random.Generator, n: int, profile: Profile, *, gaps: bool = True) -> _Ints:
    """``n`` regular intervals in ms: log-normal around the median, plus occasional gaps."""
    steps = profile.interval * 1000.0 * np.exp(rng.normal(0.0, profile.jitter, n))
    if gaps:
        gapped = rng.random(n) < profile.gaps_per_hour * profile.interval / 3600.0
        steps[gapped] += 1000.0 * np.exp(rng.uniform(math.log(_GAP_MIN), math.log(_GAP_MAX), int(gapped.sum())))
    result: _Ints = np.maximum(1, np.rint(steps)).astype(np.int64)
    return result


def bulk_intervals(seed: int, chunk: int, n: int, interval_s: float) -> _Ints:
    """Milliseconds before each row of one bulk-fill chunk; the same (seed, chunk) gives the same steps."""
    return _intervals_ms(np.random.default_rng([seed, chunk, 0]), n, Profile(interval_s))


def _default_resolution(spec: SeriesSpec) -> float:
    # A thousandth of the limits' span: fine enough to show the generic wander.
    if spec.low is not None and spec.high is not None and spec.high > spec.low:
        return (spec.high - spec.low) / 1000.0
    return 0.02


class Feed:
    """One series: its process model, read on its clock and logged regularly or by exception.

    ``sampling`` overrides the profile's mode; ``gaps`` adds the regular
    clock's occasional gaps (exception logging has long intervals of its own).
    """

    def __init__(self, spec: SeriesSpec, rng: models.Random, *, gaps: bool, sampling: Sampling | None = None) -> None:
        self.spec = spec
        self.profile = profile(spec.key)
        self.sampling: Sampling = sampling or self.profile.sampling
        self.rng = rng
        self.gaps = gaps
        self.model = models.model_for(spec, rng)
        self.last_ms: int | None = None
        p = self.profile
        if self.sampling == "exception":
            self.quantum: float | None = p.quantum or p.deadband or _default_resolution(spec)
            # Readings are whole quanta, so the deadband is compared in quanta, free of float error.
            self._deadband = max(1, round((p.deadband or self.quantum) / self.quantum))
            self._period = p.scan
        else:
            self.quantum = p.quantum
            self._deadband = 0
            self._period = p.interval
        self._written: int | None = None  # the last written reading, in quanta (exception logging)

    def interval_ms(self) -> int:
        """Milliseconds to the next reading: the scan period, or a regular interval with jitter and gaps."""
        p = self.profile
        if self._deadband:
            return round(p.scan * 1000)
        dt = p.interval * math.exp(p.jitter * self.rng.normal())
        if self.gaps and self.rng.random() < p.gaps_per_hour * p.interval / 3600.0:
            dt += math.exp(self.rng.uniform(math.log(_GAP_MIN), math.log(_GAP_MAX)))
        return max(50, round(dt * 1000))

    def read(self, ms: int, *, online: bool = True) -> float | None:
        """Advance the model to ``ms``; the quantised value to write, or None.

        None when offline, or (exception logging) when the reading is within
        the deadband of the last written row. The historian stores the value
        as float32 (:func:`models.float32`).
        """
        dt = (ms - self.last_ms) / 1000 if self.last_ms is not None else self._period
        self.last_ms = ms
        raw = self.model.value(ms / 1000, max(dt, 0.001))
        q = self.quantum
        if not online:
            self._written = None  # the historian writes afresh when it reconnects
            return None
        if not self._deadband:
            return raw if q is None else round(raw / q) * q
        assert q is not None
        level = round(raw / q)
        if self._written is not None and abs(level - self._written) < self._deadband:
            return None
        self._written = level
        return level * q

    def history(
        self, start_ms: int, end_ms: int, zone: ZoneInfo, outages: Sequence[tuple[int, int]] = ()
    ) -> list[tuple[datetime, float]]:
        """Rows from ``start_ms`` to ``end_ms``, none in the ``[start, end)`` ms ranges of ``outages``."""
        times = self._clock(start_ms, end_ms)
        if not len(times):
            return []
        online = np.ones(len(times), dtype=bool)
        for low, high in outages:
            online &= (times < low) | (times >= high)
        values = [self.read(ms, online=up) for ms, up in zip(times.tolist(), online.tolist(), strict=True)]
        written = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        stored = models.float32((v for v in values if v is not None), None)
        # datetime64[ms] -> naive datetime objects in C; ms precision is exact.
        stamps: list[datetime] = models.local_ms(times[written], zone).astype("datetime64[ms]").tolist()
        return list(zip(stamps, stored, strict=True))

    def _clock(self, start_ms: int, end_ms: int) -> _Ints:
        """The reading times from ``start_ms`` to ``end_ms``, starting at a random phase."""
        if self._deadband:
            scan = round(self.profile.scan * 1000)
            return np.arange(start_ms + round(self.rng.uniform(0.0, scan)), end_ms + 1, scan, dtype=np.int64)
        first = start_ms + round(self.rng.uniform(0.0, self.profile.interval) * 1000)
        # Drawn with numpy in batches; only the model is stepped in order.
        batch = int((end_ms - first) / (self.profile.interval * 1000)) + 64
        pieces: list[_Ints] = []
        next_ms = first
        while next_ms <= end_ms:
            offsets = np.cumsum(_intervals_ms(self.rng.np, batch, self.profile, gaps=self.gaps))
            times = next_ms + offsets - offsets[0]
            pieces.append(times[times <= end_ms])
            next_ms += int(offsets[-1])
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
