"""Whatever a client sends on /ws, it gets an error message at worst; nothing crashes (#9).

Hypothesis sends frames to a real server on a real PostgreSQL: random and
deeply nested JSON, subscribes with huge, non-finite-looking and wrongly
typed ``since`` and ``seq``, unknown keys, binary frames, plus frames found
by hand. Each is followed on the same connection by a sentinel (a subscribe
naming a unique unknown series), so the test waits on a condition, never a
timer: the sentinel's error proves the connection still reads, and every
message before it answered the frame. Meanwhile another viewer must keep
receiving the rows written to the table, each once, and the server must log
no error.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from realtime.config import PgSettings, Settings
from tests.support.contract import check_message
from tests.support.fuzzing import FUZZ, send_invalid_utf8, server_errors
from tests.support.pg import PgServer, TestDb, create_schema, run
from tests.support.sample import app_settings, fill, ms
from tests.support.server import LiveServer, serve
from tests.support.wsclient import Viewer

KEYS = ["temperature", "ph", "do", "pressure"]
MAX_MESSAGE_BYTES: int = Settings.__dataclass_fields__["max_message_bytes"].default  # type: ignore[assignment]
LIVE_T0 = datetime(2026, 3, 1, 0, 0, 0)

# Frames found by hand: numbers past datetime's range or a double's, non-finite-looking
# numbers, wrong types, nesting deeper than any parser's limit, sizes.
HAND_PICKED: list[str | bytes] = [
    '{"type":"subscribe","since":{"temperature":1e308}}',
    '{"type":"subscribe","since":{"temperature":-1e308}}',
    '{"type":"subscribe","since":{"temperature":1e20}}',
    '{"type":"subscribe","since":{"temperature":NaN}}',
    '{"type":"subscribe","since":{"temperature":Infinity}}',
    '{"type":"subscribe","since":{"temperature":1e400}}',
    '{"type":"subscribe","since":{"temperature":' + "9" * 400 + "}}",
    '{"type":"subscribe","since":{"temperature":0},"seq":{"temperature":1e308}}',
    '{"type":"subscribe","since":{"temperature":0},"seq":{"temperature":-1}}',
    '{"type":"subscribe","since":{"temperature":"1"}}',
    '{"type":"subscribe","since":{"temperature":true}}',
    '{"type":"subscribe","since":{"temperature":null}}',
    '{"type":"subscribe","since":[1,2]}',
    '{"type":"subscribe","seq":"x"}',
    '{"type":"subscribe","since":{"":1}}',
    '{"type":"subscribe","since":{"ph":0},"extra":{"deep":[1,2,3]}}',
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 5000 + "1" + "}" * 5000,
    "x" * 200_000,
    "",
    "null",
    "[]",
    "{}",
    '"subscribe"',
    b"",
    b"\xff\xfe\xfd",
    b'{"type":"subscribe","since":{"ph":0}}',
]

keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=50))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)
numbers = st.one_of(
    st.integers(),  # unbounded: past int64 and a double's range
    st.floats(),  # json.dumps writes NaN and Infinity for these
    st.sampled_from([1e308, -1e308, 2**63, -(2**63) - 1, 10**30, 5e-324, -0.0]),
    st.integers(ms(LIVE_T0) - 10**9, ms(LIVE_T0) + 10**9),
    json_values,
)
subscribes = st.builds(
    lambda extra, body: {**extra, **body},
    st.dictionaries(st.text(max_size=8), json_values, max_size=2),
    st.fixed_dictionaries(
        {"type": st.just("subscribe")},
        optional={
            "since": st.dictionaries(keys, numbers, max_size=4) | json_values,
            "seq": st.dictionaries(keys, numbers, max_size=4) | json_values,
        },
    ),
)
frames: st.SearchStrategy[str | bytes] = st.one_of(
    subscribes.map(json.dumps),
    subscribes.map(lambda m: json.dumps(m).encode()),  # a binary frame of JSON
    json_values.map(json.dumps),
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),
    st.text(max_size=200),
    st.binary(max_size=200),
)


@pytest.fixture(scope="module")
def feed(pg_admin: PgSettings, pg_server: PgServer) -> Iterator[tuple[LiveServer, TestDb]]:
    db = run(create_schema(pg_admin, pg_server))
    fill(db)
    with serve(app_settings(db)) as live:
        yield live, db


def is_subscribe(frame: str | bytes) -> bool:
    """Whether the server may take the frame for a subscribe (then it may answer with no error)."""
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("type") == "subscribe"


def answers_to(url: str, frame: str | bytes, n: int) -> list[dict[str, Any]] | None:
    """What the server answers to ``frame``: every message before the sentinel's error.

    None for a frame past the inbound cap, after checking that it closed that socket with 1009.
    """
    marker = f"zz-sentinel-{n}"
    v = Viewer(url)
    if len(frame.encode() if isinstance(frame, str) else frame) > MAX_MESSAGE_BYTES:
        # Past the inbound cap: that socket alone is closed with 1009, as documented.
        try:
            v.conn.send(frame)
            v.pump(10, closing_ok=True)
        finally:
            v.close()
        close = v.conn.protocol.close_rcvd
        assert close is not None
        assert close.code == 1009, close
        return None
    try:
        v.conn.send(frame)
        v.conn.send(json.dumps({"type": "subscribe", "since": {marker: 1}}))
        deadline = time.monotonic() + 30
        while not any(marker in m["error"] for m in v.of_type("error")):
            assert time.monotonic() < deadline, f"no answer to the sentinel after {frame[:100]!r}: {v.messages[-3:]}"
            v.pump(0.005)  # returns soon after each frame, unlike wait_for's steps
    finally:
        v.close()
    for m in v.messages:
        check_message(m, quick=True)
    done = next(i for i, m in enumerate(v.messages) if m["type"] == "error" and marker in m["error"])
    return [m for m in v.messages[1:done] if not (m["type"] == "append" and not m["replay"])]


def test_any_frame_gets_an_error_at_worst_while_others_keep_receiving(feed: tuple[LiveServer, TestDb]) -> None:
    server, db = feed
    watcher = Viewer(server.ws_url)
    written: list[float] = []
    count = itertools.count()

    @settings(FUZZ, max_examples=60)
    @given(frame=frames)
    def probe(frame: str | bytes) -> None:
        n = next(count)
        if n % 10 == 0:  # the table keeps growing meanwhile
            at = LIVE_T0 + timedelta(seconds=n)
            run(db.insert("pressure", [(at, float(n))]))
            written.append(ms(at))
        replies = answers_to(server.ws_url, frame, n)
        if replies is None:
            return
        errors = [m for m in replies if m["type"] == "error"]
        assert len(errors) <= 1, replies
        if not is_subscribe(frame):
            assert len(errors) == 1, replies
        watcher.pump(0.01)

    for frame in HAND_PICKED:
        probe = example(frame=frame)(probe)
    with server_errors() as logged:
        probe()
        during = len(watcher.rows.get("pressure", []))
        watcher.wait_for(lambda v: len(v.rows.get("pressure", [])) >= len(written))
    assert during > 0, "the other viewer received nothing while the fuzzing went on"
    assert sorted(t for t, _ in watcher.rows["pressure"]) == sorted(written)
    assert not logged, [r.getMessage() for r in logged]
    assert not server.stopped
    watcher.close()


def test_a_burst_of_frames_is_rate_limited_with_errors_not_a_close(feed: tuple[LiveServer, TestDb]) -> None:
    server, _ = feed
    v = Viewer(server.ws_url)
    for i in range(20):
        v.conn.send(f"junk {i}")
    v.wait_for(lambda v: len(v.of_type("error")) == 20)
    texts = [m["error"] for m in v.of_type("error")]
    assert any("too many messages" in t for t in texts)
    assert not v.closed()
    v.close()
    # The allowance is the viewer's own: another is answered as usual.
    other = Viewer(server.ws_url)
    other.conn.send("junk")
    other.wait_for(lambda v: bool(v.of_type("error")))
    assert "too many" not in other.of_type("error")[0]["error"]
    other.close()


def test_invalid_utf8_in_a_text_frame_closes_that_socket_with_1007_only(feed: tuple[LiveServer, TestDb]) -> None:
    server, db = feed
    watcher = Viewer(server.ws_url)
    with server_errors() as logged:
        assert send_invalid_utf8(server.port) == 1007
    assert not logged, [r.getMessage() for r in logged]
    # The server goes on: the other viewer still gets new rows.
    at = LIVE_T0 + timedelta(days=1)
    run(db.insert("pressure", [(at, 1.5)]))
    watcher.wait_for(lambda v: (ms(at), 1.5) in v.rows.get("pressure", []))
    watcher.close()
