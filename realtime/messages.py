"""Every WebSocket message the server sends, built in one place.

The browser's mirror is ``frontend/src/types.ts``; ``docs/contract.md``
describes both, and the contract tests hold all three together. Times on
the wire are epoch milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from realtime.rows import F64, I64
from realtime.times import wire_ms

__all__ = ["Message", "append", "encode", "encode_many", "error", "heartbeat", "hello", "resync", "status"]

Message = dict[str, Any]


def encode(message: Message) -> str:
    """JSON text for a message; numpy columns are serialised without a Python list."""
    return orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def encode_many(messages: list[Message]) -> str:
    """One frame of several messages: a JSON array of them."""
    return orjson.dumps(messages, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def hello(*, demo: bool, db: Mapping[str, Any]) -> Message:
    return {"type": "hello", "demo": demo, "db": dict(db)}


def append(key: str, t: I64, v: F64, *, seq: int, late: bool, replay: bool) -> Message:
    """Rows of one series, sorted by time; ``t`` in µs goes out in ms (fractional where µs matter)."""
    return {"type": "append", "series": key, "t": wire_ms(t), "v": v, "seq": seq, "late": late, "replay": replay}


def status(db: Mapping[str, Any]) -> Message:
    return {"type": "status", "db": dict(db)}


def resync(keys: Iterable[str]) -> Message:
    return {"type": "resync", "series": list(keys)}


def heartbeat(now: float | None = None) -> Message:
    return {"type": "heartbeat", "time": round((time.time() if now is None else now) * 1000)}


def error(text: str) -> Message:
    return {"type": "error", "error": text}
