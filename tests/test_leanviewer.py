"""The storm's lean viewer (bench/leanviewer.py) against the real app on a real PostgreSQL.

What it counts and parses of a reconnect's replays must be what the
`websockets` client receives for the same subscribe, however the reads split
the frames: the storm's verdict ("whole replays", "sample ok") rests on it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from datetime import datetime

import pytest
from websockets.asyncio.client import connect

from bench import leanviewer
from bench.leanviewer import LeanViewer, open_viewer
from realtime.wsprotocol import DirectChannel
from tests.support.pg import TestDb, run
from tests.support.sample import ms
from tests.support.server import LiveServer, serve, wait_until

T0 = datetime(2026, 3, 1)
KEYS = ("temperature", "ph", "do", "pressure")
HOUR = 3600 * 2  # rows per series: an hour at 2 rows/s, as bench/fanout.py's history
# Each series' since, ms after T0: replays of 7199, 5999 and 1199 rows and of one row (about 140, 120
# and 24 KB and 100 bytes), so frames of every length form: 64-, 16- and 7-bit.
SINCE_MS = {"temperature": 0, "ph": 600_000, "do": 3_000_000, "pressure": 3_599_000}
SUBSCRIBE = json.dumps({"type": "subscribe", "since": {k: ms(T0) + s for k, s in SINCE_MS.items()}})
# Rows strictly after since: the row at since is the viewer's own newest, not replayed.
EXPECTED = {k: sum(1 for i in range(HOUR) if i * 500 > s) for k, s in SINCE_MS.items()}


async def _history(db: TestDb) -> None:
    conn = await db.connect()
    try:
        for key in KEYS:
            await conn.execute(
                f"INSERT INTO {db.qualified(key)} SELECT $1::timestamp + i * interval '500 milliseconds', "
                "37.0 + i % 100 / 100.0 FROM generate_series(0, $2 - 1) i",
                T0,
                HOUR,
            )
    finally:
        await conn.close()


@pytest.fixture
def live(db: TestDb) -> Iterator[LiveServer]:
    run(_history(db))
    with serve(db.settings()) as server:
        yield server


class _Replays:
    """``on_replays`` for a viewer: each call's count, and a future set once every series' replay is in."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.whole: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def __call__(self, k: int) -> None:
        self.calls.append(k)
        if sum(self.calls) >= len(KEYS) and not self.whole.done():
            self.whole.set_result(None)


async def _library_rows(url: str) -> dict[str, int]:
    """Rows per series in the replays the `websockets` client receives for ``SUBSCRIBE`` (as storm's _watch reads)."""
    rows: dict[str, int] = {}
    async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        await ws.send(SUBSCRIBE)
        while len(rows) < len(KEYS):
            data = json.loads(await ws.recv())
            for msg in data if isinstance(data, list) else [data]:
                if msg["type"] == "append" and msg["replay"]:
                    assert msg["series"] not in rows, "a second replay of one series"
                    rows[msg["series"]] = len(msg["t"])
    return rows


async def _replay(viewer: LeanViewer, replays: _Replays, url: str) -> None:
    viewer.send_text(SUBSCRIBE)
    await asyncio.wait_for(replays.whole, 15)
    # One frame per replay, one marker in each: exactly one replay per series, each parsed whole.
    assert replays.calls == [1] * len(KEYS)
    assert viewer.rows == EXPECTED == await asyncio.wait_for(_library_rows(url), 15)
    await asyncio.wait_for(viewer.close(), 10)


async def test_replays_counted_and_parsed_match_the_websockets_client(live: LiveServer) -> None:
    replays = _Replays()
    viewer = await asyncio.wait_for(open_viewer(live.ws_url, replays, keep=True), 10)
    await _replay(viewer, replays, live.ws_url)


class _TinyReads(LeanViewer):
    """Reads of 1 to 13 bytes, into the front of the shared buffer (where buffer_updated looks).

    Loopback reads are 64 KB or more: the whole replay above takes three, and
    no frame header or marker straddles two. Reads shorter than the 13-byte
    marker split every marker, and most headers, at offsets that vary.
    """

    sizes: Iterator[int] = itertools.cycle(range(1, 14))

    def get_buffer(self, sizehint: int) -> memoryview:  # type: ignore[override]  # a view of the same buffer
        return memoryview(leanviewer._BUFFER)[: next(self.sizes)]


async def test_replays_split_across_tiny_reads_are_counted_and_parsed_whole(live: LiveServer) -> None:
    replays = _Replays()

    def make() -> LeanViewer:
        return _TinyReads(f"127.0.0.1:{live.port}", "/ws", replays, keep=True)

    # As open_viewer connects, with the tiny reads from the handshake on.
    _, viewer = await asyncio.get_running_loop().create_connection(make, "127.0.0.1", live.port)
    await asyncio.wait_for(viewer.opened, 10)
    await _replay(viewer, replays, live.ws_url)


async def test_close_reaches_the_server_as_a_clean_close(live: LiveServer) -> None:
    viewer = await asyncio.wait_for(open_viewer(live.ws_url, lambda k: None), 10)
    await asyncio.to_thread(wait_until, lambda: len(live.ctx.hub) == 1)
    (seen,) = live.ctx.hub.viewers
    assert isinstance(seen.channel, DirectChannel)
    await asyncio.wait_for(viewer.close(), 10)
    await asyncio.to_thread(wait_until, lambda: len(live.ctx.hub) == 0)
    # The server's protocol parsed our close frame; a socket merely dropped would leave none (uvicorn: 1005).
    close = seen.channel._protocol.conn.close_rcvd
    assert close is not None
    assert close.code == 1000


async def test_a_refused_upgrade_raises_a_connection_error(live: LiveServer) -> None:
    # No route for the path: Starlette closes before accepting, which uvicorn answers with 403.
    with pytest.raises(ConnectionError, match=r"^handshake refused: HTTP/1\.1 403 "):
        await asyncio.wait_for(open_viewer(f"ws://127.0.0.1:{live.port}/nowhere", lambda k: None), 10)
