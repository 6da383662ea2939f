"""Every WebSocket message's shape, as the browser (frontend/src/types.ts) reads it."""

from __future__ import annotations

import json

import numpy as np

from realtime import messages


def wire(message: messages.Message) -> object:
    """What the browser receives: the encoded text, parsed."""
    return json.loads(messages.encode(message))


def test_hello() -> None:
    db = {"state": "up", "since": 1_700_000_000_000, "error": None}
    assert wire(messages.hello(demo=True, db=db)) == {"type": "hello", "demo": True, "db": db}


def test_append_sends_times_in_ms_exact_to_the_us_and_nan_as_null() -> None:
    t = np.array([1_700_000_000_000_000, 1_700_000_000_001_999], dtype=np.int64)
    v = np.array([1.5, np.nan], dtype=np.float64)
    message = messages.append("ph", t, v, seq=42, late=True, replay=False)
    assert wire(message) == {
        "type": "append",
        "series": "ph",
        "t": [1_700_000_000_000, 1_700_000_000_001.999],  # fractional ms where a row has µs
        "v": [1.5, None],
        "seq": 42,
        "late": True,
        "replay": False,
    }


def test_an_empty_append_is_still_an_append() -> None:
    empty_t, empty_v = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    assert wire(messages.append("do", empty_t, empty_v, seq=1, late=False, replay=True)) == {
        "type": "append",
        "series": "do",
        "t": [],
        "v": [],
        "seq": 1,
        "late": False,
        "replay": True,
    }


def test_status() -> None:
    db = {"state": "down", "since": 5, "error": "connection refused"}
    assert wire(messages.status(db)) == {"type": "status", "db": db}


def test_resync_lists_series() -> None:
    assert wire(messages.resync(k for k in ("ph", "do"))) == {"type": "resync", "series": ["ph", "do"]}


def test_heartbeat_carries_the_time_in_ms() -> None:
    assert wire(messages.heartbeat(now=1_700_000_000.0126)) == {"type": "heartbeat", "time": 1_700_000_000_013}


def test_error() -> None:
    assert wire(messages.error("unknown series nope")) == {"type": "error", "error": "unknown series nope"}


def test_encoding_is_compact_json_text() -> None:
    text = messages.encode(messages.resync(["ph"]))
    assert text == '{"type":"resync","series":["ph"]}'
