"""Where a series' long silences are: a sorted index kept beside the store's rows.

``/data`` breaks a line wherever two samples are further apart than the
series' threshold. Finding those by scanning the window costs a pass over
every row (about 20 ms for 10 M rows) on every request. A derived threshold
is never below a floor (10 s, see ``cadence``), and intervals that long are
rare, so the store keeps each interval longer than the floor here, as the
times of its two ends, and updates the index as rows arrive, are merged late
or are trimmed. A request then takes the window's entries by binary search.

A series sampled more slowly than the floor holds one entry per row (16
bytes each); it is a slow series, so it has few rows.
"""

from __future__ import annotations

import numpy as np

from realtime.rows import I64

__all__ = ["GapIndex"]

_MIN_CAPACITY = 64


class GapIndex:
    """Intervals between consecutive distinct times longer than ``floor_us``, in time order."""

    def __init__(self, floor_us: int) -> None:
        self.floor_us = floor_us
        self._s: I64 = np.empty(0, dtype=np.int64)
        self._e: I64 = np.empty(0, dtype=np.int64)
        self._off = 0
        self.n = 0

    @property
    def starts(self) -> I64:
        """The time of the last sample before each silence."""
        return self._s[self._off : self._off + self.n]

    @property
    def ends(self) -> I64:
        """The time of the first sample after each silence."""
        return self._e[self._off : self._off + self.n]

    def rebuild(self, t: I64) -> None:
        """Index a whole sorted time column afresh."""
        self._s = self._e = np.empty(0, dtype=np.int64)
        self._off = self.n = 0
        self.extend(t)

    def extend(self, t: I64, *, after: int | None = None) -> None:
        """Add the long intervals of sorted ``t``, which follows the row at ``after`` (if any)."""
        if t.size == 0:
            return
        if after is not None and int(t[0]) - after > self.floor_us:
            self._append(np.array([after], dtype=np.int64), t[:1])
        i = np.flatnonzero(np.diff(t) > self.floor_us)
        if i.size:
            self._append(t[i], t[i + 1])

    def truncate(self, at: int) -> None:
        """Forget the intervals that start at or after ``at`` (rows from there on are re-indexed)."""
        self.n = int(np.searchsorted(self.starts, at, "left"))

    def drop_before(self, at: int) -> None:
        """Forget the intervals that start before ``at`` (their first row was trimmed)."""
        k = int(np.searchsorted(self.starts, at, "left"))
        self._off += k
        self.n -= k

    def within(self, start: int, end: int) -> tuple[I64, I64]:
        """The intervals with both ends inside ``[start, end]``."""
        s, e = self.starts, self.ends
        j0 = int(np.searchsorted(s, start, "left"))
        j1 = int(np.searchsorted(e, end, "right"))
        j1 = max(j0, j1)
        return s[j0:j1], e[j0:j1]

    def _append(self, s: I64, e: I64) -> None:
        k = int(s.size)
        end = self._off + self.n
        if end + k > self._s.size:
            # Grow geometrically (reclaiming the dropped prefix) so appends stay amortised O(1).
            cap = max(_MIN_CAPACITY, 2 * (self.n + k))
            ns = np.empty(cap, dtype=np.int64)
            ne = np.empty(cap, dtype=np.int64)
            ns[: self.n] = self.starts
            ne[: self.n] = self.ends
            self._s, self._e, self._off, end = ns, ne, 0, self.n
        self._s[end : end + k] = s
        self._e[end : end + k] = e
        self.n += k
