"""Background tasks that must not die quietly: restart them, or stop the process.

A task that crashes is logged with its traceback and restarted after a
jittered delay. One that keeps crashing (more than ``max_restarts`` within
``window`` seconds) is a fault the process cannot fix by itself: the app
records it (``/readyz`` then answers 503) and asks the server to stop, and
``run-app`` exits non-zero so that the orchestrator restarts it. Never a
zombie that answers 200 and delivers nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from realtime.backoff import Backoff

__all__ = ["DEFAULT_POLICY", "Policy", "supervised"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    """More than ``max_restarts`` crashes within ``window`` seconds is fatal."""

    max_restarts: int = 5
    window: float = 300.0
    first_delay: float = 1.0
    max_delay: float = 30.0


DEFAULT_POLICY = Policy()


async def supervised(
    name: str,
    task: Callable[[], Awaitable[None]],
    on_fatal: Callable[[str], None],
    policy: Policy | None = None,
) -> None:
    policy = policy or DEFAULT_POLICY
    delays = Backoff(policy.first_delay, policy.max_delay)
    crashes: deque[float] = deque()
    while True:
        try:
            await task()
            return  # finished on purpose
        except Exception as exc:
            now = time.monotonic()
            crashes.append(now)
            while crashes and crashes[0] < now - policy.window:
                crashes.popleft()
            if len(crashes) > policy.max_restarts:
                log.critical(
                    "background task %s crashed %d times in %.0f s; stopping", name, len(crashes), policy.window
                )
                on_fatal(f"{name}: {type(exc).__name__}: {exc}")
                return
            delay = delays.next()
            log.exception("background task %s crashed; restarting in %.1f s", name, delay)
            await asyncio.sleep(delay)
