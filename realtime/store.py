"""The in-memory columnar store: one sorted (t, v) buffer per series.

Buffers grow geometrically with a live window ``[off, off + n)``, so appends
are amortised O(1) and dropping old rows is an offset bump. Late rows are
merged into the tail in place, keeping the series sorted. All methods are
synchronous: the event loop's single thread is the lock, which is what lets
the poller and the WebSocket handler agree on exactly which rows a client has.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from realtime.cadence import FLOOR_US, Cadence, measure
from realtime.gapindex import GapIndex
from realtime.rows import F64, I64, Rows

__all__ = ["Batch", "MemoryPolicy", "SeriesData", "SeriesState", "Store"]

_GROWTH = 1.25
_MIN_CAPACITY = 4096
# The interval distribution changes slowly: measure it at most this often.
_CADENCE_EVERY = 10.0

SeriesState = Literal["loading", "ok", "empty", "missing", "error"]


@dataclass(frozen=True)
class MemoryPolicy:
    """How much of each series the store keeps; older rows stay readable through SQL."""

    max_points: int = 20_000_000
    horizon_us: int | None = None


@dataclass(frozen=True)
class _Measured:
    at: float
    seq: int
    n: int
    cadence: Cadence


@dataclass(frozen=True)
class Batch:
    """Rows merged in one step; what a WebSocket ``append`` carries."""

    t: I64
    v: F64
    seq: int
    late: bool


class SeriesData:
    def __init__(self, key: str, *, policy: MemoryPolicy | None = None) -> None:
        self.key = key
        self.policy = policy or MemoryPolicy()
        self._t: I64 = np.empty(0, dtype=np.int64)
        self._v: F64 = np.empty(0, dtype=np.float64)
        self._off = 0
        self.n = 0
        # The store holds every table row at or after covered_from (None: all rows).
        self.covered_from: int | None = None
        self.rows_before = 0
        self.first_db: int | None = None
        self.state: SeriesState = "loading"
        self.error: str | None = None
        self.loaded = False
        self.null_count = 0
        self._cadence: _Measured | None = None
        # When the poller last finished a round, whatever its outcome, and a successful one (monotonic).
        self.polled_at = self.ok_at = time.monotonic()
        # Rows taken in (loads and merges), and of them those merged behind the newest: for /metrics.
        self.ingested = 0
        self.late_rows = 0
        # Intervals longer than any derived outage threshold's floor: /data's gaps without a scan.
        self.gaps = GapIndex(FLOOR_US)
        # The times of the NULL rows (few): M4 keeps one a column without scanning the window for them.
        self._null_t: I64 = np.empty(0, dtype=np.int64)

    # -- views -----------------------------------------------------------
    @property
    def t(self) -> I64:
        return self._t[self._off : self._off + self.n]

    @property
    def v(self) -> F64:
        return self._v[self._off : self._off + self.n]

    @property
    def newest(self) -> int | None:
        return int(self._t[self._off + self.n - 1]) if self.n else None

    @property
    def oldest(self) -> int | None:
        return int(self._t[self._off]) if self.n else None

    @property
    def first(self) -> int | None:
        """The table's first row time, which may be older than the store's."""
        return self.first_db if self.first_db is not None else self.oldest

    @property
    def count(self) -> int:
        return self.rows_before + self.n

    def covers(self, start: int) -> bool:
        """Whether every row from ``start`` on is in memory.

        A table dropped while watched is unloaded (to be loaded again once it is
        back) but keeps its rows: those still answer for the range they cover.
        """
        return (self.loaded or self.n > 0) and (self.covered_from is None or start >= self.covered_from)

    def bounds(self, start: int, end: int) -> tuple[int, int]:
        """Index range of rows with start <= t <= end."""
        t = self.t
        return int(np.searchsorted(t, start, "left")), int(np.searchsorted(t, end, "right"))

    def rows_after(self, since: int) -> Rows:
        t = self.t
        i = int(np.searchsorted(t, since, "right"))
        return t[i:].copy(), self.v[i:].copy()

    def long_gaps(self, start: int, end: int, gap_us: int) -> tuple[I64, I64] | None:
        """The (from, to) times of silences longer than ``gap_us`` inside ``[start, end]``;
        None when the index cannot tell (a threshold below its floor, rows not all here)."""
        if gap_us < self.gaps.floor_us or not self.covers(start):
            return None
        s, e = self.gaps.within(start, end)
        keep = e - s > gap_us
        return s[keep], e[keep]

    def null_times(self, start: int, end: int) -> I64 | None:
        """Times of the NULL rows inside ``[start, end]``; None when not all rows are here."""
        if not self.covers(start):
            return None
        nt = self._null_t
        return nt[int(np.searchsorted(nt, start, "left")) : int(np.searchsorted(nt, end, "right"))]

    def values_at(self, t0: int) -> F64:
        i0, i1 = self.bounds(t0, t0)
        return self.v[i0:i1]

    def cadence(self) -> Cadence:
        """The recent interval distribution, re-measured after new rows at most every
        10 s, or at once when the row count moved by a tenth (a load, a big backfill)."""
        now = time.monotonic()
        cached = self._cadence
        if cached is None or (
            cached.seq != self.seq and (now - cached.at >= _CADENCE_EVERY or abs(self.n - cached.n) * 10 > cached.n)
        ):
            cached = self._cadence = _Measured(now, self.seq, self.n, measure(self.t))
        return cached.cadence

    # -- writes ----------------------------------------------------------
    def replace(self, rows: Rows, *, covered_from: int | None, rows_before: int = 0, first: int | None = None) -> None:
        """Install a bulk load; rows must be sorted by time."""
        t, v = rows
        n = int(t.size)
        bt, bv = _base(t), _base(v)
        if bt is not None and bv is not None:
            # A bulk read's own columns (see CopyDecoder): keep them, no copy.
            self._t, self._v = bt, bv
        else:
            cap = max(_MIN_CAPACITY, n + n // 8)
            self._t = np.empty(cap, dtype=np.int64)
            self._v = np.empty(cap, dtype=np.float64)
            self._t[:n] = t
            self._v[:n] = v
        self._off, self.n = 0, n
        self.ingested += n
        self.gaps.rebuild(self.t)
        self.covered_from = covered_from
        self.rows_before = rows_before
        self.first_db = first
        self._null_t = np.asarray(t[np.isnan(v)], dtype=np.int64)
        self.null_count = int(self._null_t.size)
        self.loaded = True
        self.state = "ok" if n or rows_before else "empty"
        self.error = None
        # Clients holding an older snapshot cannot be patched: make them reload.
        self._cadence = None
        self._trim()

    def _reserve(self, extra: int) -> None:
        need = self.n + extra
        if self._off + need <= self._t.size:
            return
        if need <= self._t.size * 0.75:
            # Plenty of room once the dropped prefix is reclaimed.
            self._t[: self.n] = self._t[self._off : self._off + self.n]
            self._v[: self.n] = self._v[self._off : self._off + self.n]
            self._off = 0
            return
        cap = max(_MIN_CAPACITY, int(need * _GROWTH))
        t = np.empty(cap, dtype=np.int64)
        v = np.empty(cap, dtype=np.float64)
        t[: self.n] = self.t
        v[: self.n] = self.v
        self._t, self._v, self._off = t, v, 0

    def merge(self, t: I64, v: F64) -> Batch | None:
        """Insert new rows (any order), keeping the series sorted; None if empty."""
        if t.size == 0:
            return None
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
        newest = self.newest
        late = newest is not None and int(t[0]) <= newest
        k = int(t.size)
        self._reserve(k)
        end = self._off + self.n
        if not late:
            self._t[end : end + k] = t
            self._v[end : end + k] = v
            self.gaps.extend(t, after=newest)
        else:
            # Merge the new rows into the tail that follows the first of them;
            # existing rows keep their place before equal timestamps.
            pos = int(np.searchsorted(self.t, t[0], "right"))
            tail_t = np.concatenate((self.t[pos:], t))
            tail_v = np.concatenate((self.v[pos:], v))
            order = np.argsort(tail_t, kind="stable")
            s = self._off + pos
            self._t[s : end + k] = tail_t[order]
            self._v[s : end + k] = tail_v[order]
            # Re-index from the last row before the merged ones: only intervals from there on changed.
            first = max(pos - 1, 0)
            self.gaps.truncate(int(self._t[self._off + first]) if pos else np.iinfo(np.int64).min)
            self.gaps.extend(self._t[self._off + first : end + k])
        self.n += k
        self.ingested += k
        if late and newest is not None:
            self.late_rows += int(np.searchsorted(t, newest, "right"))
        nulls = t[np.isnan(v)]
        if nulls.size:
            self._null_t = np.sort(np.concatenate((self._null_t, nulls)))
            self.null_count = int(self._null_t.size)
        if self.state in ("empty", "loading") and self.loaded:
            self.state = "ok"
        batch = Batch(t=t, v=v, seq=self.seq, late=late)
        self._trim()
        return batch

    def mark(self, state: SeriesState, error: str | None) -> bool:
        """Record a failure (or recovery) the poller saw; True if that is news."""
        changed = (state, error) != (self.state, self.error)
        self.state, self.error = state, error
        return changed

    def round_done(self) -> None:
        """The poller finished a round (a stalled poller stops calling this)."""
        self.polled_at = time.monotonic()

    def settle(self) -> bool:
        """A poll succeeded: whatever went wrong before is over; True if that is news."""
        self.ok_at = time.monotonic()
        if not self.loaded:
            return False
        return self.mark("ok" if self.count else "empty", None)

    def unload(self) -> None:
        """The table went away: keep the rows, but load it afresh once it is back."""
        self.loaded = False

    def _trim(self) -> None:
        """Drop the oldest rows beyond the memory policy; they stay readable via SQL."""
        max_points, horizon_us = self.policy.max_points, self.policy.horizon_us
        drop = 0
        if self.n > max_points:
            # Drop a little extra so trimming is rare.
            drop = self.n - max_points + max_points // 20
        if horizon_us is not None and self.n:
            newest = self.newest
            assert newest is not None
            drop = max(drop, int(np.searchsorted(self.t, newest - horizon_us, "left")))
        drop = min(drop, self.n)
        if drop <= 0:
            return
        # Never split rows sharing a timestamp across the boundary.
        cut = int(self.t[drop]) if drop < self.n else int(self.t[-1]) + 1
        drop = int(np.searchsorted(self.t, cut, "left"))
        if self.first_db is None:
            self.first_db = self.oldest
        self._null_t = self._null_t[int(np.searchsorted(self._null_t, cut, "left")) :]
        self.null_count = int(self._null_t.size)
        self.rows_before += drop
        self._off += drop
        self.n -= drop
        self.covered_from = cut
        self.gaps.drop_before(cut)

    @property
    def seq(self) -> int:
        """The cursor a client holds: how many rows of the table this process knows.

        It grows with every merged batch, and it means the same on every
        replica that has read the same rows, and across restarts: it comes
        from the table, not from the process.
        """
        return self.count

    def count_through(self, t0: int) -> int | None:
        """Rows at or before ``t0`` (None if that reaches back before the store)."""
        if not self.covers(t0):
            return None
        return self.rows_before + int(np.searchsorted(self.t, t0, "right"))

    def count_after(self, t0: int) -> int:
        """Stored rows strictly after ``t0``, without copying them."""
        return self.n - int(np.searchsorted(self.t, t0, "right"))

    def needs_resync(self, since: int, seq: int) -> bool:
        """Does a client that held ``seq`` rows when its newest was ``since`` hold what we hold up to ``since``?

        Rows backfilled at or before ``since`` while it was away make our
        count there larger; a table that lost rows, or a replica that has not
        caught up, makes it smaller. Either way the client must reload.
        """
        here = self.count_through(since)
        return (here if here is not None else self.count) != seq


def _base(a: npt.NDArray[Any]) -> npt.NDArray[Any] | None:
    """The array that ``a`` is a leading slice of, if any."""
    base = a.base
    adoptable = (
        isinstance(base, np.ndarray)
        and base.ndim == 1
        and base.dtype == a.dtype
        and base.flags.owndata
        and a.size > 0
        and base.ctypes.data == a.ctypes.data
        and a.strides == base.strides
    )
    return base if adoptable else None


class Store:
    def __init__(self, keys: list[str], *, policy: MemoryPolicy | None = None) -> None:
        self.series: dict[str, SeriesData] = {k: SeriesData(k, policy=policy) for k in keys}

    def __getitem__(self, key: str) -> SeriesData:
        return self.series[key]

    def __contains__(self, key: object) -> bool:
        return key in self.series

    def newest(self) -> int | None:
        values = [s.newest for s in self.series.values() if s.newest is not None]
        return max(values) if values else None
