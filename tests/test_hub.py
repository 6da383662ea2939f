"""The hub's fan-out and its overflow policy."""

from __future__ import annotations

from realtime.hub import Hub


async def test_publish_encodes_once_and_reaches_every_client() -> None:
    hub = Hub(queue_size=4)
    async with hub.connect() as a, hub.connect() as b:
        hub.publish({"type": "append", "series": "ph", "t": [1], "v": [7.0]})
        got_a, got_b = a.queue.get_nowait(), b.queue.get_nowait()
        assert got_a is got_b  # the same encoded text, not one encoding per client
        assert got_a == '{"type":"append","series":"ph","t":[1],"v":[7.0]}'


async def test_a_slow_client_overflows_alone() -> None:
    hub = Hub(queue_size=2)
    async with hub.connect() as slow, hub.connect() as fast:
        for i in range(5):
            hub.publish({"n": i})
            fast.queue.get_nowait()
        assert slow.overflowed.is_set()
        assert not fast.overflowed.is_set()
        assert slow.queue.qsize() == 2
        hub.publish({"n": 5})  # nothing more is queued for an overflowed client
        assert slow.queue.qsize() == 2
    assert hub.dropped == 1
    assert len(hub) == 0
