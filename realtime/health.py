"""Whether the database can be reached: one honest state for the whole app.

Every poller and on-demand read reports here. One failure to connect or a
lost connection makes the state ``down``, with the reason and its kind; the
first success after that makes it ``up``. While it is down, a single
shared schedule decides when the next attempt is made, and only one caller
makes it (the probe), so four pollers and any number of history requests
cost the database one attempt per retry, not one each. Kinds that will not
fix themselves in seconds back off further: a wrong password or a missing
database is retried every few minutes, so the app never locks a plant
account in a directory by hammering it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from realtime.backoff import Backoff
from realtime.db import OutageKind

__all__ = ["DbHealth"]

log = logging.getLogger(__name__)

# The longest wait between attempts, per kind of failure (seconds).
MAX_RETRY: dict[OutageKind, float] = {
    "unreachable": 5.0,
    "refused": 5.0,
    "too-many-connections": 30.0,
    "auth": 300.0,
    "no-database": 300.0,
}
_FIRST_RETRY = 0.5


class DbHealth:
    def __init__(self, on_change: Callable[[dict[str, Any]], None]) -> None:
        self.state = "unknown"
        self.kind: OutageKind | None = None
        self.since = time.time()
        self.error: str | None = None
        self._on_change = on_change
        self._backoff = Backoff(_FIRST_RETRY, MAX_RETRY["unreachable"])
        self._retry_at = 0.0
        self._failed_at = float("-inf")
        self._probing = False
        # Set (and replaced) on every outcome, to wake the callers waiting in turn().
        self._outcome = asyncio.Event()
        self.waiting = 0

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state, "since": round(self.since * 1000), "error": self.error, "kind": self.kind}

    @property
    def retry_in(self) -> float | None:
        """Seconds until the next attempt while down; None while up."""
        return max(0.0, self._retry_at - time.monotonic()) if self.state == "down" else None

    def succeeded(self, started: float | None = None) -> None:
        """A query worked: the database is up.

        ``started`` (monotonic) is when that work began: work that began before the
        latest failure says nothing about now (a query can finish while the server
        is already shutting down), so it does not end an outage.
        """
        if started is not None and started < self._failed_at:
            return
        self._probing = False
        self._backoff.reset()
        self._set("up", None, None)
        self._wake()

    def failed(self, error: BaseException, kind: OutageKind) -> None:
        """A connection failed or was lost; schedules the next attempt for everyone."""
        self._probing = False
        self._failed_at = time.monotonic()
        self._backoff.maximum = MAX_RETRY[kind]
        self._retry_at = time.monotonic() + self._backoff.next()
        text = " ".join(str(error).split()) or type(error).__name__
        self._set("down", text[:200], kind)
        self._wake()

    def _wake(self) -> None:
        self._outcome.set()
        self._outcome = asyncio.Event()

    async def turn(self) -> None:
        """Wait until this caller may use the database.

        While up (or not yet known) that is at once. While down, callers wait
        for the next scheduled attempt, and one of them makes it; the others
        wait for its outcome.
        """
        while self.state == "down":
            wait = self._retry_at - time.monotonic()
            if not self._probing and wait <= 0:
                self._probing = True
                return
            self.waiting += 1
            try:
                # Until the probe's outcome, or (no probe out) the retry time.
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._outcome.wait(), None if self._probing else wait)
            finally:
                self.waiting -= 1

    def _set(self, state: str, error: str | None, kind: OutageKind | None) -> None:
        if state == self.state:
            if kind != self.kind:
                # The same outage, seen differently (e.g. "shutting down", then "refused"): tell
                # viewers the current reason, but log the outage once.
                self.error, self.kind = error, kind
                self._on_change(self.snapshot())
            return
        self.state, self.error, self.kind, self.since = state, error, kind, time.time()
        if state == "down":
            log.warning("database down (%s): %s", kind, error)
        else:
            log.info("database up")
        self._on_change(self.snapshot())
