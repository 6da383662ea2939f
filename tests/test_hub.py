"""The hub's fan-out: one frame per tick, encoded once, and its overflow policy.

These run the hub's queued path (no direct socket channel); the direct path
is exercised through a real server in test_ws.py and test_live.py.
"""

from __future__ import annotations

import asyncio
import time

import orjson

from realtime.hub import COALESCE_S, Hub, text_frame


async def test_one_frame_per_tick_with_every_message() -> None:
    hub = Hub(limit_bytes=1 << 20, send_timeout=5.0)
    async with hub.connect(None) as a, hub.connect(None) as b:
        hub.publish({"type": "append", "series": "ph", "t": [1], "v": [7.0]})
        hub.publish({"type": "append", "series": "do", "t": [1], "v": [40.0]})
        await asyncio.wait_for(a.ready.wait(), 5 * COALESCE_S + 1)
        assert len(a.queue) == len(b.queue) == 1
        assert a.queue[0] is b.queue[0]  # the same encoded text, not one encoding per viewer
        assert [m["series"] for m in orjson.loads(a.queue[0])] == ["ph", "do"]
    assert hub.frames == 1


async def test_a_slow_viewer_overflows_alone_and_gets_nothing_more() -> None:
    hub = Hub(limit_bytes=100, send_timeout=5.0)
    async with hub.connect(None) as slow, hub.connect(None) as fast:
        for i in range(5):
            hub.publish({"n": "x" * 20, "i": i})
            hub.flush()
            fast.queue.clear()
            fast.queued_bytes = 0
        assert slow.dropped == "overflow"
        assert slow.gone.is_set()
        assert fast.dropped is None
        assert not slow.queue  # its backlog is released at once
        hub.publish({"n": 5})
        hub.flush()
        assert not slow.queue
    assert hub.dropped["overflow"] == 1
    assert len(hub) == 0


async def test_a_viewer_whose_send_hangs_is_dropped_as_frozen() -> None:
    hub = Hub(limit_bytes=1 << 20, send_timeout=0.05)
    async with hub.connect(None) as viewer:
        viewer.sending_since = time.monotonic() - 1  # a send stuck for a second
        hub.check()
        assert viewer.dropped == "frozen"


def test_text_frames_are_plain_rfc6455_frames() -> None:
    assert text_frame(b"hi") == b"\x81\x02hi"
    assert text_frame(b"x" * 200)[:4] == b"\x81\x7e\x00\xc8"
    assert text_frame(b"x" * 70_000)[:10] == b"\x81\x7f" + (70_000).to_bytes(8, "big")
