"""Process limits: file descriptors, and what happens when they run out.

Each viewer holds a socket, so the descriptor limit caps the viewers a
process can serve. ``raise_descriptor_limit`` lifts the soft limit as far as
the hard limit allows (the default soft limit of 1,024 is about a thousand
viewers) and says what is left. When descriptors run out anyway, asyncio
logs "socket.accept() out of system resource" on every accept attempt, which
once wrote 390 MB of log in 70 s: ``AcceptErrorFilter`` lets one such line
through per minute, with a count of those it held back.
"""

from __future__ import annotations

import logging
import resource
import time

__all__ = ["AcceptErrorFilter", "raise_descriptor_limit"]

log = logging.getLogger(__name__)


def raise_descriptor_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE towards ``wanted`` (within the hard limit); returns the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the file descriptor limit from %d to %d: %s", soft, target, exc)
    if soft < wanted:
        log.warning(
            "file descriptor limit %d is below the %d that MAX_CONNECTIONS needs; raise the hard limit (ulimit -Hn)",
            soft,
            wanted,
        )
    return soft


class AcceptErrorFilter(logging.Filter):
    """One "out of system resource" accept error per ``every`` seconds, with a count of the rest."""

    def __init__(self, every: float = 60.0) -> None:
        super().__init__()
        self.every = every
        self._last = float("-inf")
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.getMessage().startswith("socket.accept() out of system resource"):
            return True
        now = time.monotonic()
        if now - self._last < self.every:
            self._held += 1
            return False
        if self._held:
            record.msg = f"{record.msg} ({self._held} more since the last report)"
        record.exc_info = None  # the same traceback each time: the message says it all
        self._last, self._held = now, 0
        return True
