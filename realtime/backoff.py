"""Retry delays: exponential, capped, with full jitter.

Jitter spreads retries from many processes (pollers, replicas, a restarted
plant) so they do not hit a recovering database in step.
"""

from __future__ import annotations

import random

__all__ = ["Backoff"]


class Backoff:
    def __init__(
        self, initial: float, maximum: float, *, factor: float = 2.0, rng: random.Random | None = None
    ) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._rng = rng or random.Random()
        self._ceiling = initial
        self.attempts = 0

    def next(self) -> float:
        """The delay before the next attempt: uniform in [ceiling/2, ceiling], the ceiling growing."""
        delay = self._ceiling * (0.5 + 0.5 * self._rng.random())
        self._ceiling = min(self._ceiling * self.factor, self.maximum)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self._ceiling = self.initial
        self.attempts = 0
