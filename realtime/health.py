"""Whether the database is reachable, as seen by the pollers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["DbHealth"]


class DbHealth:
    def __init__(self, on_change: Callable[[dict[str, Any]], None]) -> None:
        self.state = "unknown"
        self.since = time.time()
        self.error: str | None = None
        self._on_change = on_change

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state, "since": round(self.since * 1000), "error": self.error}

    def ok(self) -> None:
        self._set("up", None)

    def down(self, error: BaseException) -> None:
        text = str(error).strip() or type(error).__name__
        self._set("down", text.splitlines()[0][:200])

    def _set(self, state: str, error: str | None) -> None:
        if state == self.state:
            return
        self.state, self.error, self.since = state, error, time.time()
        self._on_change(self.snapshot())
