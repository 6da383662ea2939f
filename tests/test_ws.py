"""The live feed (views/ws.py) and the hub behind it, through a real server."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.support.pg import TestDb, run
from tests.support.server import serve, wait_until
from tests.support.wsclient import StalledViewer, Viewer

T0 = datetime(2026, 4, 1, 0, 0, 0)
TEMPERATURE_ROWS = 600  # one a second from T0
PH_ROWS = 200  # one every 3 s from T0


def ms(dt: datetime) -> int:
    return round((dt - datetime(1970, 1, 1)).total_seconds() * 1000)


@pytest.fixture
def history(db: TestDb) -> TestDb:
    run(db.insert("temperature", [(T0 + timedelta(seconds=i), 37.0 + i / 1000) for i in range(TEMPERATURE_ROWS)]))
    run(db.insert("ph", [(T0 + timedelta(seconds=3 * i), 7.0) for i in range(PH_ROWS)]))
    return db


def test_a_viewer_that_stops_reading_is_closed_with_1013_and_others_get_every_row(history: TestDb) -> None:
    """Guards the overflow policy: a viewer that falls CLIENT_BUFFER_BYTES behind
    is closed with 1013 ("try again later"), not left to grow memory or hold up
    the others, while a reading viewer still receives every row."""
    # A send timeout far beyond the test: only the overflow can drop the viewer.
    settings = history.settings(
        client_buffer_bytes=64 * 1024, replay_max_rows=1000, send_timeout=120, poll_interval=0.05
    )
    do_newest = T0 - timedelta(seconds=1)
    run(history.insert("do", [(do_newest, 40.0)]))
    with serve(settings) as live:
        stalled = StalledViewer("127.0.0.1", live.port, since={"do": ms(do_newest)})
        healthy = Viewer(live.ws_url, max_queue=64)
        healthy.subscribe_and_wait(since={"do": ms(do_newest)})
        give_up = threading.Event()

        def resume_reading_once_overflowed() -> tuple[list[dict[str, Any]], int]:
            # The server gives its close frame a few seconds to get out while the viewer
            # drains (wsprotocol.DirectChannel.close): like a tab frozen for a moment, the
            # viewer reads again as soon as it is dropped.
            wait_until(
                lambda: give_up.is_set() or live.ctx.hub.dropped["overflow"] > 0,
                timeout=120,
                interval=0.005,
            )
            assert not give_up.is_set(), "the stalled viewer never overflowed its queue"
            return stalled.read_until_close()

        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                closing = pool.submit(resume_reading_once_overflowed)
                try:
                    expected: Counter[tuple[int, float | None]] = Counter()
                    batch = 40_000  # about 1 MB of JSON per append: the stalled socket fills in a few
                    for k in range(40):
                        if closing.done():
                            break
                        base = T0 + timedelta(hours=k)
                        run(
                            history.execute(
                                f"INSERT INTO {history.qualified('do')} SELECT $1::timestamp "
                                "+ i * interval '1 millisecond', $2 FROM generate_series(0, $3 - 1) i",
                                base,
                                float(k),
                                batch,
                            )
                        )
                        expected.update((ms(base) + i, float(k)) for i in range(batch))
                        total = sum(expected.values())
                        healthy.wait_for(lambda v, total=total: len(v.rows.get("do", [])) == total, timeout=30)
                    # It read again: what was in flight, then the close frame.
                    received, code = closing.result(timeout=30)
                finally:
                    give_up.set()
            assert code == 1013
            assert all(m["type"] in ("hello", "append") for m in received)
            wait_until(lambda: len(live.ctx.hub) == 1)
            assert live.ctx.hub.dropped == {"overflow": 1}
            # The healthy viewer keeps receiving after the drop, and holds every row exactly once.
            after = T0 + timedelta(days=3)
            run(history.insert("do", [(after, 41.5)]))
            expected[(ms(after), 41.5)] += 1
            healthy.wait_for(lambda v: v.rows["do"][-1] == (ms(after), 41.5))
            assert healthy.count("do") == expected
            assert not healthy.of_type("resync")
        finally:
            healthy.close()
            stalled.close()


@pytest.mark.parametrize(("replay_rows", "replayed"), [(100, True), (101, False)])
def test_a_replay_beyond_replay_max_rows_is_a_resync_instead(history: TestDb, replay_rows: int, replayed: bool) -> None:
    """Guards the replay bound: a viewer reconnecting after a long absence is told
    to reload (resync) rather than sent more than replay_max_rows rows; exactly
    replay_max_rows rows are still replayed. Other series in the same
    subscribe are replayed as usual."""
    with serve(history.settings(replay_max_rows=100)) as live:
        v = Viewer(live.ws_url)
        try:
            newest_temperature = T0 + timedelta(seconds=TEMPERATURE_ROWS - 1)
            since_temperature = newest_temperature - timedelta(seconds=replay_rows)
            since_ph = T0 + timedelta(seconds=3 * (PH_ROWS - 4))
            v.subscribe(since={"ph": ms(since_ph), "temperature": ms(since_temperature)})
            # Replays and any resync are queued in one step, in that order: once the
            # temperature outcome is in, everything this subscribe produced has arrived.
            v.wait_for(
                lambda v: bool(v.of_type("resync")) or any(m["series"] == "temperature" for m in v.of_type("append"))
            )
            appends = {m["series"]: m for m in v.of_type("append")}
            assert appends["ph"]["replay"] is True
            assert appends["ph"]["t"] == [ms(since_ph) + 3000 * i for i in range(1, 4)]
            if replayed:
                assert appends["temperature"]["replay"] is True
                assert len(appends["temperature"]["t"]) == replay_rows
                assert appends["temperature"]["t"][-1] == ms(newest_temperature)
                assert not v.of_type("resync")
            else:
                assert "temperature" not in appends
                assert v.of_type("resync") == [{"type": "resync", "series": ["temperature"]}]
        finally:
            v.close()


def test_heartbeats_reach_every_connected_viewer(history: TestDb) -> None:
    with serve(history.settings(heartbeat_interval=0.2)) as live:
        before = round(time.time() * 1000)
        v = Viewer(live.ws_url)
        try:
            v.wait_for(lambda v: len(v.of_type("heartbeat")) >= 3)
            after = round(time.time() * 1000)
            beats = v.of_type("heartbeat")
            assert all(set(b) == {"type", "time"} and isinstance(b["time"], int) for b in beats)
            times = [b["time"] for b in beats]
            assert before <= times[0]
            assert times[-1] <= after
            # One every heartbeat_interval (0.2 s): never two in a burst.
            assert all(b - a >= 190 for a, b in itertools.pairwise(times))
        finally:
            v.close()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("not json", None),
        ("[1, 2]", "expected {'type': 'subscribe', ...}"),
        ('{"type": "unsubscribe"}', "expected {'type': 'subscribe', ...}"),
        ('{"type": "subscribe", "since": [1]}', "'since' must be an object of series key to number"),
        ('{"type": "subscribe", "since": {"ph": true}}', "'since.ph' must be a number"),
        ('{"type": "subscribe", "seq": {"ph": "7"}}', "'seq.ph' must be a number"),
        ('{"type": "subscribe", "seq": {"nope": 1, "ph": 2}}', "unknown series nope"),
    ],
)
def test_an_invalid_message_gets_an_error_and_the_connection_stays_open(
    history: TestDb, text: str, error: str | None
) -> None:
    """Guards the feed against one bad message ending a viewer's connection."""
    if error is None:
        # Not JSON: the parser's own message is passed on.
        with pytest.raises(orjson.JSONDecodeError) as parse:
            orjson.loads(text)
        error = str(parse.value)
    with serve(history.settings()) as live:
        v = Viewer(live.ws_url)
        try:
            v.conn.send(text)
            v.wait_for(lambda v: bool(v.of_type("error")))
            (message,) = v.of_type("error")
            assert set(message) == {"type", "error"}
            assert message["error"] == error
            # Still open, and a valid subscribe after the bad one is served.
            since = T0 + timedelta(seconds=3 * (PH_ROWS - 3))
            v.subscribe_and_wait(since={"ph": ms(since)})
            replay = [m for m in v.of_type("append") if m["series"] == "ph"]
            assert replay[0]["t"] == [ms(since) + 3000, ms(since) + 6000]
            assert len(live.ctx.hub) == 1
        finally:
            v.close()


def test_a_binary_frame_is_read_as_text(history: TestDb) -> None:
    """Guards the receive loop against dying on a binary frame: it is decoded as UTF-8 and handled."""
    with serve(history.settings()) as live:
        v = Viewer(live.ws_url)
        try:
            since = T0 + timedelta(seconds=3 * (PH_ROWS - 2))
            v.conn.send(json.dumps({"type": "subscribe", "since": {"ph": ms(since)}}).encode())
            v.wait_for(lambda v: any(m["series"] == "ph" for m in v.of_type("append")))
            assert v.of_type("append")[0]["t"] == [ms(since) + 3000]
            v.conn.send(b"\xff\xfe")
            v.wait_for(lambda v: bool(v.of_type("error")))
            assert len(live.ctx.hub) == 1
        finally:
            v.close()
