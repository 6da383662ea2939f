"""Replays for reconnecting viewers: built once per (series, since) and shared.

After a server restart or a network blip, many browsers reconnect at once,
most of them holding the same newest row. Each replay is encoded once and
the same text goes to every viewer that asks for it, while the series has
not changed; the cache is bounded by bytes, and a series' replays go as soon
as it changes (their memory is back once a storm is over).
"""

from __future__ import annotations

from collections import OrderedDict

from realtime import messages
from realtime.hub import Outgoing
from realtime.store import SeriesData

__all__ = ["Replays"]


class Replays:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.built = 0
        self.shared = 0
        self._cache: OrderedDict[tuple[str, int, int], Outgoing] = OrderedDict()

    def get(self, series: SeriesData, since: int) -> Outgoing:
        """The ``append`` (replay) message of every stored row after ``since``, as one frame.

        Its plain and compressed encodings are made once and kept with it.
        """
        key = (series.key, since, series.seq)
        out = self._cache.get(key)
        if out is not None:
            self._cache.move_to_end(key)
            self.shared += 1
            return out
        i = series.n - series.count_after(since)
        out = Outgoing(
            messages.encode(
                messages.append(series.key, series.t[i:], series.v[i:], seq=series.seq, late=False, replay=True)
            )
        )
        self.built += 1
        self._forget_older(series)
        # Counted twice: the text, and its encoded frames.
        if 2 * out.size <= self.max_bytes // 4:
            self._cache[key] = out
            self.bytes += 2 * out.size
            while self.bytes > self.max_bytes:
                _, old = self._cache.popitem(last=False)
                self.bytes -= 2 * old.size
        return out

    def _forget_older(self, series: SeriesData) -> None:
        """Drop the series' replays built before its latest change: no viewer can be sent them again."""
        for key in [k for k in self._cache if k[0] == series.key and k[2] < series.seq]:
            self.bytes -= 2 * self._cache.pop(key).size
