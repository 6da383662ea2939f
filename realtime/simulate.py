"""A bioreactor simulator that writes the four historian tables like the plant does.

It mimics a measured run: irregular sampling (median 1-4 s per table, with
gaps of up to about four minutes), millisecond timestamps, float32 values
widened to double, pressure in 0.002 psi steps, naive timestamps in a
configurable zone. It serves the demo, the tests and the benchmarks:

- :func:`create_tables` and :func:`backfill` lay down history through COPY;
- :func:`fill_rows` bulk-loads millions of rows for benchmarks;
- :class:`Simulator` keeps writing rows in real time, one commit per row,
  and survives a database outage by buffering and forwarding (store-and-forward);
- :func:`main` is the ``run-simulator`` command.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import heapq
import logging
import math
import os
import random
import secrets
import signal
import struct
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
import numpy as np
import numpy.typing as npt

from realtime.config import DEFAULT_SERIES, ConfigError, PgSettings, SeriesSpec, load_series_file, pg_from_env

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

__all__ = [
    "Database",
    "Simulator",
    "backfill",
    "backfill_empty",
    "create_tables",
    "fill_rows",
    "main",
]

log = logging.getLogger(__name__)

_Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
# What the bulk functions accept: a connection (pooled or not) or a pool.
Database: TypeAlias = "_Conn | asyncpg.Pool[asyncpg.Record]"
_Ints: TypeAlias = "npt.NDArray[np.int64]"
_Floats: TypeAlias = "npt.NDArray[np.float64]"

_UTC = ZoneInfo("UTC")
_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)
_PG_EPOCH_MS = 946_684_800_000  # 2000-01-01, the origin of PostgreSQL's binary timestamps
_TWO_PI = 2.0 * math.pi
# Culture activity (oxygen uptake, acid production) follows a four-day cycle
# of absolute time, so backfill, live rows and bulk fills agree without
# sharing state.
_CULTURE_PERIOD = 4 * 86_400.0
_GAP_MIN, _GAP_MAX = 20.0, 240.0  # seconds; the measured run had gaps up to ~4 min
# Errors after which the live simulator buffers rows and retries.
_TRANSIENT = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


# -- identifiers and time ------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(spec: SeriesSpec) -> str:
    table = _ident(spec.table)
    return f"{_ident(spec.schema)}.{table}" if spec.schema else table


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a known IANA time zone") from None


def _end_ms(end: datetime | None, zone: ZoneInfo) -> int:
    """Epoch milliseconds of ``end``; a naive ``end`` is wall time in ``zone``, like the tables."""
    if end is None:
        return round(time.time() * 1000)
    if end.tzinfo is None:
        end = end.replace(tzinfo=zone)
    return round(end.timestamp() * 1000)


def _naive(ms: int, zone: ZoneInfo) -> datetime:
    """The historian's naive wall-clock timestamp for an instant (ms precision is exact)."""
    return (_EPOCH + timedelta(milliseconds=ms)).astimezone(zone).replace(tzinfo=None)


def _local_ms(utc_ms: _Ints, zone: ZoneInfo) -> _Ints:
    """Vectorised :func:`_naive` for sorted instants: one UTC offset per hour (zones change on the hour)."""
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


def _float32(values: Iterable[float], quantum: float | None) -> list[float]:
    """Quantise like the instrument, then round through float32 as the historian stores it."""
    array = np.fromiter(values, dtype=np.float64)
    if quantum:
        array = np.round(array / quantum) * quantum
    result: list[float] = array.astype(np.float32).astype(np.float64).tolist()
    return result


# -- process models ------------------------------------------------------------


class _Random:
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

    def __init__(self, rng: _Random, std: float, tau: float) -> None:
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

    def __init__(self, rng: _Random, period: float, coherence: float) -> None:
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


class _Model:
    """A signal's process: ``value(t, dt)`` advances by ``dt`` seconds to epoch time ``t``."""

    def __init__(self, rng: _Random) -> None:
        self.rng = rng

    def value(self, t: float, dt: float) -> float:
        raise NotImplementedError

    def resume(self, t: float, value: float) -> None:
        """Continue from a value already in the table, so a restart shows no jump."""


class _Temperature(_Model):
    """37 °C under jacket control: slow drift, heater cycling and sensor noise."""

    def __init__(self, rng: _Random) -> None:
        super().__init__(rng)
        self._drift = _Drift(rng, std=0.05, tau=3600.0)
        self._cycle = _Oscillator(rng, period=720.0, coherence=3600.0)

    def value(self, t: float, dt: float) -> float:
        return 37.0 + self._drift.step(dt) + 0.02 * self._cycle.step(dt) + 0.008 * self.rng.normal()

    def resume(self, t: float, value: float) -> None:
        self._drift.x = min(0.3, max(-0.3, value - 37.0 - 0.02 * self._cycle.re))


class _PH(_Model):
    """Acid production pulls pH down; a dead-band controller doses base back up."""

    def __init__(self, rng: _Random) -> None:
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


class _DissolvedOxygen(_Model):
    """DO around a 40 % set point: PID hunting, growing uptake, occasional spikes."""

    def __init__(self, rng: _Random) -> None:
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


class _Pressure(_Model):
    """Head-space gauge pressure: 1.5 psi, rising a little as gas flow follows uptake."""

    def __init__(self, rng: _Random) -> None:
        super().__init__(rng)
        self._drift = _Drift(rng, std=0.01, tau=1200.0)

    def value(self, t: float, dt: float) -> float:
        return 1.5 + 0.04 * _culture(t) + self._drift.step(dt) + 0.002 * self.rng.normal()

    def resume(self, t: float, value: float) -> None:
        self._drift.x = min(0.1, max(-0.1, value - 1.5 - 0.04 * _culture(t)))


class _Generic(_Model):
    """Any other configured series: a wander inside its limits (or around 50)."""

    def __init__(self, rng: _Random, spec: SeriesSpec) -> None:
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


@dataclass(frozen=True)
class _Profile:
    interval: float  # median seconds between samples
    jitter: float = 0.35  # log-normal sigma of the interval
    gaps_per_hour: float = 1.0
    quantum: float | None = None  # instrument resolution


_PROFILES: Mapping[str, _Profile] = {
    "temperature": _Profile(2.0),
    "ph": _Profile(3.0),
    "do": _Profile(1.0),
    "pressure": _Profile(3.8, quantum=0.002),
}


def _intervals_ms(rng: np.random.Generator, n: int, profile: _Profile, *, gaps: bool = True) -> _Ints:
    """``n`` sampling intervals in ms: log-normal around the median, plus occasional gaps."""
    steps = profile.interval * 1000.0 * np.exp(rng.normal(0.0, profile.jitter, n))
    if gaps:
        gapped = rng.random(n) < profile.gaps_per_hour * profile.interval / 3600.0
        steps[gapped] += 1000.0 * np.exp(rng.uniform(math.log(_GAP_MIN), math.log(_GAP_MAX), int(gapped.sum())))
    result: _Ints = np.maximum(1, np.rint(steps)).astype(np.int64)
    return result


class _Feed:
    """One series: its sampling clock and its process model."""

    def __init__(self, spec: SeriesSpec, rng: _Random, *, gaps: bool) -> None:
        self.spec = spec
        self.profile = _PROFILES.get(spec.key, _Profile(2.0))
        self.rng = rng
        self.gaps = gaps
        model_types = {"temperature": _Temperature, "ph": _PH, "do": _DissolvedOxygen, "pressure": _Pressure}
        model_type = model_types.get(spec.key)
        self.model: _Model = model_type(rng) if model_type else _Generic(rng, spec)
        self.last_ms: int | None = None

    def interval_ms(self) -> int:
        profile = self.profile
        dt = profile.interval * math.exp(profile.jitter * self.rng.normal())
        if self.gaps and self.rng.random() < profile.gaps_per_hour * profile.interval / 3600.0:
            dt += math.exp(self.rng.uniform(math.log(_GAP_MIN), math.log(_GAP_MAX)))
        return max(50, round(dt * 1000))

    def sample(self, ms: int) -> float:
        """The raw value at ``ms``, advancing the model from the previous sample."""
        dt = (ms - self.last_ms) / 1000 if self.last_ms is not None else self.profile.interval
        self.last_ms = ms
        return self.model.value(ms / 1000, max(dt, 0.001))

    def history(self, start_ms: int, end_ms: int, zone: ZoneInfo) -> list[tuple[datetime, float]]:
        """Rows from ``start_ms`` to ``end_ms``: the clock is drawn with numpy, the model stepped in order."""
        first = start_ms + round(self.rng.uniform(0.0, self.profile.interval) * 1000)
        batch = int((end_ms - first) / (self.profile.interval * 1000)) + 64
        pieces: list[_Ints] = []
        next_ms = first
        while next_ms <= end_ms:
            offsets = np.cumsum(_intervals_ms(self.rng.np, batch, self.profile, gaps=self.gaps))
            times = next_ms + offsets - offsets[0]
            pieces.append(times[times <= end_ms])
            next_ms += int(offsets[-1])
        if not pieces or not sum(len(p) for p in pieces):
            return []
        times = np.concatenate(pieces)
        values = _float32([self.sample(ms) for ms in times.tolist()], self.profile.quantum)
        # datetime64[ms] -> naive datetime objects in C; ms precision is exact.
        stamps: list[datetime] = _local_ms(times, zone).astype("datetime64[ms]").tolist()
        return list(zip(stamps, values, strict=True))


# -- tables and history ----------------------------------------------------------


@contextlib.asynccontextmanager
async def _connection(db: Database) -> AsyncIterator[_Conn]:
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            yield conn
    else:
        yield db


async def _connect(pg: PgSettings) -> asyncpg.Connection[asyncpg.Record]:
    return await asyncpg.connect(
        host=pg.host, port=pg.port, user=pg.user, password=pg.password or None, database=pg.database
    )


_HAS_TIME_INDEX = """
SELECT EXISTS (
    SELECT 1 FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = to_regclass($1) AND a.attname = 'time'
)
"""


async def create_tables(db: Database, series: Sequence[SeriesSpec], *, index: bool = True) -> None:
    """Create each series' table (and its schema) if missing, with a btree index on ``time``.

    An existing index whose first column is ``time`` counts, whatever its name.
    """
    async with _connection(db) as conn:
        for spec in series:
            if spec.schema is not None:
                # CREATE SCHEMA IF NOT EXISTS needs database CREATE rights even when the schema exists.
                exists = await conn.fetchval(
                    "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", spec.schema
                )
                if not exists:
                    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(spec.schema)}")
            table = _qualified(spec)
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (time timestamp without time zone, value double precision)"
            )
            if index and not await conn.fetchval(_HAS_TIME_INDEX, table):
                await conn.execute(f"CREATE INDEX ON {table} (time)")


async def backfill(
    db: Database,
    series: Sequence[SeriesSpec],
    *,
    hours: float = 24.0,
    end: datetime | None = None,
    seed: int | None = None,
    timezone: str = "UTC",
) -> dict[str, int]:
    """Write ``hours`` of realistic history ending at ``end`` (default now) through COPY.

    A naive ``end`` is wall time in ``timezone``, the zone the naive timestamps are written in.
    Returns the rows written per series key.
    """
    if hours < 0:
        raise ValueError("hours must not be negative")
    zone = _zone(timezone)
    end_ms = _end_ms(end, zone)
    start_ms = end_ms - round(hours * 3_600_000)
    written: dict[str, int] = {}
    async with _connection(db) as conn:
        for spec in series:
            feed = _Feed(spec, _Random(seed, spec.key), gaps=True)
            # About a second of CPU for a day of history: keep the event loop responsive meanwhile.
            rows = await asyncio.to_thread(feed.history, start_ms, end_ms, zone)
            if rows:
                await conn.copy_records_to_table(
                    spec.table, schema_name=spec.schema, columns=("time", "value"), records=rows
                )
            written[spec.key] = len(rows)
    return written


async def backfill_empty(
    db: Database,
    series: Sequence[SeriesSpec],
    *,
    hours: float = 24.0,
    seed: int | None = None,
    timezone: str = "UTC",
) -> dict[str, int]:
    """Backfill ``hours`` ending now into those tables that hold no rows; others are left alone."""
    async with _connection(db) as conn:
        empty = [s for s in series if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {_qualified(s)})")]
        if not empty:
            return {}
        return await backfill(conn, empty, hours=hours, seed=seed, timezone=timezone)


# -- bulk fill for benchmarks ------------------------------------------------------

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
_COPY_TRAILER = struct.pack("!h", -1)
_COPY_ROW = np.dtype([("fields", ">i2"), ("tlen", ">i4"), ("time", ">i8"), ("vlen", ">i4"), ("value", ">f8")])
_CHUNK_ROWS = 500_000


def _bulk_intervals(seed: int, chunk: int, n: int, interval_s: float) -> _Ints:
    """Milliseconds before each row of one chunk; the same (seed, chunk) gives the same steps."""
    return _intervals_ms(np.random.default_rng([seed, chunk, 0]), n, _Profile(interval_s))


def _bulk_values(key: str, t: _Floats, rng: np.random.Generator) -> _Floats:
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


async def fill_rows(
    db: Database,
    spec: SeriesSpec,
    *,
    rows: int,
    end: datetime | None = None,
    interval_s: float = 1.0,
    seed: int | None = None,
    timezone: str = "UTC",
) -> int:
    """Append exactly ``rows`` rows ending at ``end`` (default now), fast, for benchmarks.

    Rows are built with numpy and sent by binary COPY in chunks, so memory
    stays flat; sampling is irregular around ``interval_s`` with occasional
    gaps. Existing rows are kept. The table is analysed afterwards.
    """
    if rows < 0:
        raise ValueError("rows must not be negative")
    if not interval_s > 0:
        raise ValueError("interval_s must be positive")
    if rows == 0:
        return 0
    zone = _zone(timezone)
    end_ms = _end_ms(end, zone)
    seed = secrets.randbits(32) if seed is None else seed
    chunks = [min(_CHUNK_ROWS, rows - i) for i in range(0, rows, _CHUNK_ROWS)]
    # Two passes over seeded chunks: the first only sums the span, so the last row lands on `end`.
    span = sum(int(_bulk_intervals(seed, k, n, interval_s).sum()) for k, n in enumerate(chunks))

    async def source() -> AsyncIterator[bytes]:
        yield _COPY_HEADER
        base = end_ms - span
        for k, n in enumerate(chunks):
            utc_ms = base + np.cumsum(_bulk_intervals(seed, k, n, interval_s))
            base = int(utc_ms[-1])
            records = np.empty(n, dtype=_COPY_ROW)
            records["fields"] = 2
            records["tlen"] = 8
            records["time"] = (_local_ms(utc_ms, zone) - _PG_EPOCH_MS) * 1000
            records["vlen"] = 8
            records["value"] = _bulk_values(spec.key, utc_ms / 1000.0, np.random.default_rng([seed, k, 1]))
            yield records.tobytes()
            await asyncio.sleep(0)  # let other tasks run between chunks
        yield _COPY_TRAILER

    async with _connection(db) as conn:
        await conn.copy_to_table(
            spec.table, schema_name=spec.schema, columns=("time", "value"), source=source(), format="binary"
        )
        await conn.execute(f"ANALYZE {_qualified(spec)}")
    return rows


# -- live ------------------------------------------------------------------------


class Simulator:
    """Writes new rows in real time, each series at its own irregular rate, one commit per row.

    ``db`` is a pool (used as is) or connection settings (the simulator opens
    its own pool). Each series continues smoothly from the newest value in
    its table. When the database is unreachable the simulator logs once,
    keeps sampling into a bounded buffer, retries with backoff and forwards
    the buffered rows on recovery, as a historian's store-and-forward does.
    """

    def __init__(
        self,
        db: asyncpg.Pool[asyncpg.Record] | PgSettings,
        series: Sequence[SeriesSpec] = DEFAULT_SERIES,
        *,
        seed: int | None = None,
        timezone: str = "UTC",
        gaps: bool = True,
        buffer_rows: int = 3600,
        max_backoff: float = 10.0,
    ) -> None:
        self._db = db
        self._zone = _zone(timezone)
        # A different stream from backfill's, so a seeded live run does not replay history.
        self._feeds = [_Feed(spec, _Random(None if seed is None else seed + 1, spec.key), gaps=gaps) for spec in series]
        self._pending: list[collections.deque[tuple[datetime, float]]] = [
            collections.deque(maxlen=buffer_rows) for _ in series
        ]
        self._inserts = [f"INSERT INTO {_qualified(spec)} (time, value) VALUES ($1, $2)" for spec in series]
        self._max_backoff = max_backoff
        self._backoff = 0.5
        self._retry_at = 0.0
        self._down = False
        self.written: dict[str, int] = {spec.key: 0 for spec in series}

    @property
    def database_up(self) -> bool:
        return not self._down

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; an in-flight insert is abandoned so stopping is prompt."""
        work = asyncio.create_task(self._work())
        halt = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({work, halt}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (work, halt):
                task.cancel()
            await asyncio.gather(work, halt, return_exceptions=True)
        if not work.cancelled() and (error := work.exception()) is not None:
            raise error

    async def _work(self) -> None:
        if isinstance(self._db, PgSettings):
            pg = self._db
            # min_size=0: no connection at start-up, so a database that is down is just an outage.
            pool: asyncpg.Pool[asyncpg.Record] = await asyncpg.create_pool(
                host=pg.host,
                port=pg.port,
                user=pg.user,
                password=pg.password or None,
                database=pg.database,
                min_size=0,
                max_size=1,
            )
        else:
            pool = self._db
        try:
            await self._resume(pool)
            now = round(time.time() * 1000)
            queue = [(now + feed.interval_ms(), i) for i, feed in enumerate(self._feeds)]
            heapq.heapify(queue)
            while True:
                due, i = queue[0]
                delay = due / 1000 - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                feed = self._feeds[i]
                # Stamp with the real clock: a late loop gives late but truthful timestamps.
                ms = max(round(time.time() * 1000), (feed.last_ms or 0) + 1)
                (value,) = _float32([feed.sample(ms)], feed.profile.quantum)
                self._pending[i].append((_naive(ms, self._zone), value))
                heapq.heapreplace(queue, (ms + feed.interval_ms(), i))
                await self._flush(pool)
        finally:
            if pool is not self._db:
                try:
                    await asyncio.wait_for(pool.close(), 2.0)
                except asyncio.TimeoutError:
                    pool.terminate()

    async def _resume(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        now = time.time()
        try:
            async with pool.acquire(timeout=5.0) as conn:
                for feed in self._feeds:
                    row = await conn.fetchrow(
                        f"SELECT time, value FROM {_qualified(feed.spec)} WHERE value IS NOT NULL"
                        " ORDER BY time DESC LIMIT 1",
                        timeout=5.0,
                    )
                    if row is None:
                        continue
                    last = row["time"].replace(tzinfo=self._zone).timestamp()
                    if now - 86_400 < last <= now + 1:  # only continue recent history
                        feed.model.resume(now, float(row["value"]))
        except _TRANSIENT as exc:
            log.warning("simulator: cannot read the newest values (%s); starting fresh", exc)

    async def _flush(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        if time.monotonic() < self._retry_at:
            return
        backlog = sum(len(p) for p in self._pending)
        try:
            async with pool.acquire(timeout=5.0) as conn:
                for i, pending in enumerate(self._pending):
                    while pending:
                        await conn.execute(self._inserts[i], *pending[0], timeout=5.0)
                        pending.popleft()
                        self.written[self._feeds[i].spec.key] += 1
        except _TRANSIENT as exc:
            if not self._down:
                log.warning("simulator: database unavailable (%s: %s); buffering rows", type(exc).__name__, exc)
                self._down = True
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2.0, self._max_backoff)
            return
        if self._down:
            log.info("simulator: database reachable again; forwarded %d buffered rows", backlog)
            self._down = False
        self._backoff = 0.5


# -- command line -------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run-simulator",
        description=(
            "Simulate a cultivated-meat bioreactor writing its historian tables. By default: create missing "
            "tables, backfill 24 h into empty ones, then write live rows until Ctrl-C. Connection from POSTGRES_*."
        ),
    )
    parser.add_argument("--create", action="store_true", help="create missing tables (always done; for scripts)")
    parser.add_argument(
        "--backfill-hours",
        type=float,
        metavar="H",
        help="backfill H hours ending now into every table (default: 24 h into empty tables only)",
    )
    parser.add_argument("--rows", type=int, metavar="N", help="bulk-fill N rows into --series KEY, then exit")
    parser.add_argument("--interval", type=float, default=1.0, metavar="S", help="median seconds between --rows rows")
    parser.add_argument(
        "--series", action="append", metavar="KEY", help="simulate only this series (repeatable; default: all)"
    )
    parser.add_argument("--no-live", action="store_true", help="exit after creating and backfilling")
    parser.add_argument("--seed", type=int, help="random seed, for reproducible data")
    parser.add_argument(
        "--timezone", metavar="ZONE", help="zone of the naive timestamps (default: DATA_TIMEZONE or UTC)"
    )
    return parser


def _select(series: Sequence[SeriesSpec], keys: list[str] | None) -> tuple[SeriesSpec, ...]:
    if not keys:
        return tuple(series)
    by_key = {s.key: s for s in series}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ConfigError(f"unknown series {', '.join(unknown)} (known: {', '.join(by_key)})")
    return tuple(by_key[k] for k in dict.fromkeys(keys))


async def _connect_retrying(pg: PgSettings, attempts: int = 10) -> asyncpg.Connection[asyncpg.Record]:
    """Connect, waiting out a database that is still starting (compose starts both together)."""
    delay = 0.5
    for attempt in range(attempts):
        try:
            return await _connect(pg)
        except (OSError, asyncpg.CannotConnectNowError) as exc:
            if attempt == attempts - 1:
                raise
            log.info("waiting for the database (%s)", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    raise AssertionError("unreachable")


async def _run(args: argparse.Namespace, pg: PgSettings, series: tuple[SeriesSpec, ...], timezone: str) -> int:
    conn = await _connect_retrying(pg)
    try:
        await create_tables(conn, series)
        if args.rows is not None:
            (spec,) = series
            started = time.perf_counter()
            await fill_rows(conn, spec, rows=args.rows, interval_s=args.interval, seed=args.seed, timezone=timezone)
            log.info("filled %d rows into %s in %.1f s", args.rows, spec.table, time.perf_counter() - started)
            return 0
        started = time.perf_counter()
        if args.backfill_hours is None:
            written = await backfill_empty(conn, series, hours=24.0, seed=args.seed, timezone=timezone)
        elif args.backfill_hours > 0:
            written = await backfill(conn, series, hours=args.backfill_hours, seed=args.seed, timezone=timezone)
        else:
            written = {}
        if written:
            log.info("backfilled %s in %.1f s", written, time.perf_counter() - started)
    finally:
        await conn.close()
    if args.no_live:
        return 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info("writing live rows to %d tables; Ctrl-C to stop", len(series))
    await Simulator(pg, series, seed=args.seed, timezone=timezone).run(stop)
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The ``run-simulator`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.rows is not None and (args.rows < 0 or not args.series or len(args.series) != 1):
        parser.error("--rows N needs one --series KEY and N >= 0")
    if not args.interval > 0:
        parser.error("--interval must be positive")
    env = os.environ
    try:
        pg = pg_from_env(env)
        series_file = env.get("SERIES_FILE", "").strip()
        series = _select(load_series_file(Path(series_file)) if series_file else DEFAULT_SERIES, args.series)
        timezone = args.timezone or env.get("DATA_TIMEZONE", "").strip() or "UTC"
        try:
            _zone(timezone)
        except ValueError as exc:
            raise ConfigError(f"--timezone: {exc}") from None
    except ConfigError as exc:
        print(f"run-simulator: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        return asyncio.run(_run(args, pg, series, timezone))
    except KeyboardInterrupt:  # Ctrl-C before the live loop installed its handler
        return 130
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"run-simulator: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
