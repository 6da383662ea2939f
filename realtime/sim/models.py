"""The bioreactor's process models: what each signal does between two readings.

The data should look like a measured cultivation run, so the dashboard is
exercised by the shapes it will meet. Each signal is a small stochastic
process that can be advanced by any step, because readings come at irregular
times (see :mod:`.sampling` for when they are taken and which are written):
Ornstein-Uhlenbeck drift, a noisy limit cycle for a controller hunting, a
dead-band pH dose, and a smooth jacket-controlled temperature whose rate of
change alternates between settled and active spells. Culture activity is a
function of absolute time, so backfill, live rows and bulk fills agree
without sharing state; :func:`bulk_values` are vectorised look-alikes, cheap
enough for millions of benchmark rows.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from realtime.config import time_zone
from realtime.series import SeriesSpec

__all__ = ["Model", "Random", "bulk_values", "end_ms", "float32", "local_ms", "model_for", "naive", "zone"]

_Ints: TypeAlias = "npt.NDArray[np.int64]"
_Floats: TypeAlias = "npt.NDArray[np.float64]"

_UTC = ZoneInfo("UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_TWO_PI = 2.0 * math.pi
# Culture activity (oxygen uptake, acid production) follows a four-day cycle
# of absolute time, so backfill, live rows and bulk fills agree without
# sharing state.
_CULTURE_PERIOD = 4 * 86_400.0


# -- time ------------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(time_zone("timezone", name))


def end_ms(end: datetime | None, zone: ZoneInfo) -> int:
    """Epoch milliseconds of ``end``; a naive ``end`` is wall time in ``zone``, like the tables."""
    if end is None:
        return round(time.time() * 1000)
    if end.tzinfo is None:
        end = end.replace(tzinfo=zone)
    return round(end.timestamp() * 1000)


def naive(ms: int, zone: ZoneInfo) -> datetime:
    """The historian's naive wall-clock timestamp for an instant (ms precision is exact)."""
    return (_EPOCH + timedelta(milliseconds=ms)).astimezone(zone).replace(tzinfo=None)


def local_ms(utc_ms: _Ints, zone: ZoneInfo) -> _Ints:
    """Vectorised :func:`naive` for sorted instants: one UTC offset per hour (zones change on the hour)."""
    hours = utc_ms // 3_600_000
    first = int(hours[0])
    # Sorted input, so the hours form one contiguous range.
    offsets = np.array([_offset_ms(h * 3600, zone) for h in range(first, int(hours[-1]) + 1)], dtype=np.int64)
    result: _Ints = utc_ms + offsets[hours - first]
    return result


def _offset_ms(seconds: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(seconds, zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() * 1000)


def _culture(t: float) -> float:
    return 0.5 - 0.5 * math.cos(_TWO_PI * t / _CULTURE_PERIOD)


def float32(values: Iterable[float], quantum: float | None) -> list[float]:
    """Quantise like the instrument, then round through float32 as the historian stores it."""
    array = np.fromiter(values, dtype=np.float64)
    if quantum:
        array = np.round(array / quantum) * quantum
    result: list[float] = array.astype(np.float32).astype(np.float64).tolist()
    return result


# -- process models ------------------------------------------------------------


class Random:
    """One series' random stream; normals come pre-drawn in blocks, much cheaper than ``random.gauss``."""

    def __init__(self, seed: int | None, key: str) -> None:
        # A string seed is hashed deterministically, so each series gets its own stream.
        self._py = random.Random(f"{seed}:{key}" if seed is not None else None)
        self.np = np.random.default_rng(self._py.getrandbits(64))
        self._normals: list[float] = []
        self.random = self._py.random
        self.uniform = self._py.uniform

    def normal(self) -> float:
        if not self._normals:
            self._normals = self.np.standard_normal(4096).tolist()
        return self._normals.pop()


class _Drift:
    """Ornstein-Uhlenbeck wander with stationary std ``std``; exact for any step length."""

    def __init__(self, rng: Random, std: float, tau: float) -> None:
        self._rng, self._std, self._tau = rng, std, tau
        self.x = std * rng.normal()

    def step(self, dt: float) -> float:
        decay = math.exp(-dt / self._tau)
        self.x = self.x * decay + self._std * math.sqrt(1.0 - decay * decay) * self._rng.normal()
        return self.x


class _Oscillator:
    """A noisy limit cycle (complex OU process): a controller hunting around its set point.

    The real part has unit std; ``coherence`` is how long the phase holds.
    """

    def __init__(self, rng: Random, period: float, coherence: float) -> None:
        self._rng, self._omega, self._tau = rng, _TWO_PI / period, coherence
        self.re, self.im = rng.normal(), rng.normal()

    def step(self, dt: float) -> float:
        decay = math.exp(-dt / self._tau)
        c, s = math.cos(self._omega * dt) * decay, math.sin(self._omega * dt) * decay
        kick = math.sqrt(1.0 - decay * decay)
        re, im = self.re * c - self.im * s, self.re * s + self.im * c
        self.re = re + kick * self._rng.normal()
        self.im = im + kick * self._rng.normal()
        return self.re


class Model:
    """A signal's process: ``value(t, dt)`` advances by ``dt`` seconds to epoch time ``t``."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng

    def value(self, t: float, dt: float) -> float:
        raise NotImplementedError

    def resume(self, t: float, value: float) -> None:
        """Continue from a value already in the table, so a restart shows no jump."""


class _Temperature(Model):
    """37 °C under jacket control, smooth at the instrument's resolution.

    The controller alternates between settled spells, when the broth drifts by
    about a quantum (0.0014 °C) a minute, and active ones after a disturbance
    (a feed, a sample, an agitation change), when it moves by a few
    hundredths of a degree a minute. The rate of change is an OU process
    scaled by the spell and a slow log-normal texture; the temperature is its
    integral, pulled back to 37 °C. No white noise: the sensor's damping
    keeps it below the quantum. So an exception logger sees long quiet
    stretches in settled spells and at turning points, as on the plant; the
    constants are calibrated against its interval profile (see :mod:`.sampling`).
    """

    _ACTIVE, _SETTLED = 3.3e-4, 3e-5  # °C/s, the rate's scale in each spell
    _SPELL = 600.0  # mean seconds of a spell
    _RAMP = 60.0  # seconds for the rate's scale to follow a change of spell
    _PULL = 1800.0  # seconds for an offset from 37 °C to decay

    def __init__(self, rng: Random) -> None:
        super().__init__(rng)
        self._offset = 0.05 * rng.normal()
        self._rate = _Drift(rng, std=1.0, tau=60.0)
        self._texture = _Drift(rng, std=0.3, tau=300.0)
        self._active = rng.random() < 0.5
        self._scale = self._ACTIVE if self._active else self._SETTLED

    def value(self, t: float, dt: float) -> float:
        # Integrated in steps of about a second, so long steps (regular sampling, gaps) stay smooth.
        n = max(1, round(dt))
        for _ in range(n):
            self._step(dt / n)
        return 37.0 + self._offset

    def _step(self, dt: float) -> None:
        if self.rng.random() < -math.expm1(-dt / self._SPELL):
            self._active = not self._active
        follow = math.exp(-dt / self._RAMP)
        self._scale = self._scale * follow + (self._ACTIVE if self._active else self._SETTLED) * (1.0 - follow)
        rate = self._scale * math.exp(self._texture.step(dt)) * self._rate.step(dt)
        self._offset = self._offset * math.exp(-dt / self._PULL) + rate * dt

    def resume(self, t: float, value: float) -> None:
        self._offset = min(0.3, max(-0.3, value - 37.0))


class _PH(Model):
    """Acid production pulls pH down; a dead-band controller doses base back up."""

    def __init__(self, rng: Random) -> None:
        super().__init__(rng)
        self._ph = 7.2 + rng.uniform(-0.04, 0.03)
        self._trigger = 7.15
        self._dose = 0.0  # pH still to be added by the running base dose
        self._dose_rate = 0.0
        self._sensor = _Drift(rng, std=0.002, tau=300.0)

    def value(self, t: float, dt: float) -> float:
        acid_per_s = (0.02 + 0.04 * _culture(t)) / 3600.0
        self._ph -= acid_per_s * dt
        if self._dose > 0.0:
            added = min(self._dose, self._dose_rate * dt)
            self._ph += added
            self._dose -= added
        elif self._ph < self._trigger:
            # Base pump on: raises pH by a few hundredths over one to two minutes of mixing.
            self._dose = self.rng.uniform(0.05, 0.09)
            self._dose_rate = self._dose / self.rng.uniform(60.0, 150.0)
            self._trigger = 7.15 + 0.004 * self.rng.normal()
        return self._ph + self._sensor.step(dt) + 0.0015 * self.rng.normal()

    def resume(self, t: float, value: float) -> None:
        self._ph = min(7.4, max(7.0, value))
        self._dose = 0.0


class _DissolvedOxygen(Model):
    """DO around a 40 % set point: PID hunting, growing uptake, occasional spikes."""

    def __init__(self, rng: Random) -> None:
        super().__init__(rng)
        self._cycle = _Oscillator(rng, period=150.0, coherence=900.0)
        self._spike = 0.0

    @staticmethod
    def _shape(t: float) -> tuple[float, float]:
        uptake = _culture(t)
        # Higher uptake: the controller lags more, so DO sags and hunts wider.
        return 40.0 - 2.0 * uptake, 0.8 + 1.7 * uptake

    def value(self, t: float, dt: float) -> float:
        mean, amplitude = self._shape(t)
        self._spike *= math.exp(-dt / 20.0)
        if self.rng.random() < 1.0 - math.exp(-dt / 2400.0):
            # A bubble on the optode or a gas-flow bump: mostly upward.
            sign = 1.0 if self.rng.random() < 0.7 else -1.0
            self._spike += sign * self.rng.uniform(4.0, 12.0)
        v = mean + amplitude * self._cycle.step(dt) + self._spike + 0.15 * self.rng.normal()
        return min(100.0, max(0.0, v))

    def resume(self, t: float, value: float) -> None:
        mean, amplitude = self._shape(t)
        self._cycle.re = min(3.0, max(-3.0, (value - mean) / amplitude))
        self._spike = 0.0


class _Pressure(Model):
    """Head-space gauge pressure: 1.5 psi, rising a little as gas flow follows uptake."""

    def __init__(self, rng: Random) -> None:
        super().__init__(rng)
        self._drift = _Drift(rng, std=0.01, tau=1200.0)

    def value(self, t: float, dt: float) -> float:
        return 1.5 + 0.04 * _culture(t) + self._drift.step(dt) + 0.002 * self.rng.normal()

    def resume(self, t: float, value: float) -> None:
        self._drift.x = min(0.1, max(-0.1, value - 1.5 - 0.04 * _culture(t)))


class _Generic(Model):
    """Any other configured series: a wander inside its limits (or around 50)."""

    def __init__(self, rng: Random, spec: SeriesSpec) -> None:
        super().__init__(rng)
        low, high = spec.low, spec.high
        self._centre = (low + high) / 2.0 if low is not None and high is not None else 50.0
        span = (high - low) if low is not None and high is not None and high > low else 20.0
        self._drift = _Drift(rng, std=span / 20.0, tau=1800.0)
        self._noise = span / 400.0

    def value(self, t: float, dt: float) -> float:
        return self._centre + self._drift.step(dt) + self._noise * self.rng.normal()

    def resume(self, t: float, value: float) -> None:
        self._drift.x = value - self._centre


_MODELS: Mapping[str, type[Model]] = {
    "temperature": _Temperature,
    "ph": _PH,
    "do": _DissolvedOxygen,
    "pressure": _Pressure,
}


def model_for(spec: SeriesSpec, rng: Random) -> Model:
    """The process model of a series: the bioreactor's own by key, a generic wander for any other."""
    model_type = _MODELS.get(spec.key)
    return model_type(rng) if model_type else _Generic(rng, spec)


# -- bulk sampling for benchmarks --------------------------------------------------


def bulk_values(key: str, t: _Floats, rng: np.random.Generator) -> _Floats:
    """Vectorised look-alikes of the process models, as functions of epoch seconds ``t``."""
    n = t.shape[0]
    uptake = 0.5 - 0.5 * np.cos(_TWO_PI * t / _CULTURE_PERIOD)
    if key == "temperature":
        v = 37.0 + 0.05 * np.sin(_TWO_PI * t / 5400.0) + 0.03 * np.sin(_TWO_PI * t / 20_000.0 + 1.0)
        v += 0.02 * np.sin(_TWO_PI * t / 720.0) + rng.normal(0.0, 0.008, n)
    elif key == "ph":
        # Sawtooth: acid pulls pH down, a base dose resets it.
        v = 7.22 - 0.07 * np.mod(t / 5400.0, 1.0) + 0.002 * np.sin(_TWO_PI * t / 600.0) + rng.normal(0.0, 0.0015, n)
    elif key == "do":
        hunt = (0.8 + 1.7 * uptake) * np.sin(_TWO_PI * t / 150.0) * (0.7 + 0.3 * np.sin(_TWO_PI * t / 1300.0))
        v = 40.0 - 2.0 * uptake + hunt + rng.normal(0.0, 0.15, n)
        spikes = rng.random(n) < 1.0 / 2400.0
        v[spikes] += rng.uniform(4.0, 12.0, int(spikes.sum()))
    elif key == "pressure":
        v = 1.5 + 0.04 * uptake + 0.01 * np.sin(_TWO_PI * t / 3000.0) + rng.normal(0.0, 0.002, n)
        v = np.round(v / 0.002) * 0.002
    else:
        v = 50.0 + 2.0 * np.sin(_TWO_PI * t / 3600.0) + rng.normal(0.0, 0.05, n)
    result: _Floats = v.astype(np.float32).astype(np.float64)
    return result
