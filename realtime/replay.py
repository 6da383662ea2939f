"""Replays for reconnecting viewers: built once per (series, since) and shared.

After a server restart or a network blip, many browsers reconnect at once,
most of them holding the same newest row. Each replay is encoded once and
the same text goes to every viewer that asks for it, while the series has
not changed; the cache is bounded by bytes.
"""

from __future__ import annotations

from collections import OrderedDict

from realtime import messages
from realtime.store import SeriesData

__all__ = ["Replays"]


class Replays:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.built = 0
        self.shared = 0
        self._cache: OrderedDict[tuple[str, int, int], str] = OrderedDict()

    def get(self, series: SeriesData, since: int) -> str:
        """The ``append`` (replay) message of every stored row after ``since``, as JSON text."""
        key = (series.key, since, series.seq)
        text = self._cache.get(key)
        if text is not None:
            self._cache.move_to_end(key)
            self.shared += 1
            return text
        i = series.n - series.count_after(since)
        text = messages.encode(
            messages.append(series.key, series.t[i:], series.v[i:], seq=series.seq, late=False, replay=True)
        )
        self.built += 1
        if len(text) <= self.max_bytes // 4:
            self._cache[key] = text
            self.bytes += len(text)
            while self.bytes > self.max_bytes:
                _, old = self._cache.popitem(last=False)
                self.bytes -= len(old)
        return text
