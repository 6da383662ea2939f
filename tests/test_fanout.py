"""Fan-out at its limits: a capped number of viewers, frozen ones cut off at the
socket, one frame per tick, and a shutdown that says goodbye."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from realtime.limits import AcceptErrorFilter
from tests.support.pg import TestDb, run
from tests.support.server import LiveServer, serve, wait_until
from tests.support.wsclient import StalledViewer, Viewer

T0 = datetime(2026, 4, 1)


@pytest.fixture
def live(db: TestDb) -> Iterator[LiveServer]:
    with serve(db.settings(max_viewers=2, client_buffer_bytes=8 << 20, send_timeout=1.0)) as server:
        yield server


def test_viewers_beyond_the_cap_are_refused_before_the_handshake(live: LiveServer) -> None:
    first, second = Viewer(live.ws_url), Viewer(live.ws_url)
    with pytest.raises(InvalidStatus) as refused:
        Viewer(live.ws_url)
    assert refused.value.response.status_code == 503
    assert refused.value.response.headers["Retry-After"] == "5"
    first.close()
    wait_until(lambda: len(live.ctx.hub) == 1)
    Viewer(live.ws_url).close()  # room again
    second.close()


def test_one_frame_per_tick_carries_every_table(live: LiveServer, db: TestDb) -> None:
    viewer = Viewer(live.ws_url)
    viewer.wait_for(lambda v: bool(v.of_type("hello")))

    async def one_commit() -> None:
        conn = await db.connect()
        try:
            async with conn.transaction():
                for key in ("temperature", "ph", "do", "pressure"):
                    await conn.execute(f"INSERT INTO {db.qualified(key)} VALUES ($1, 1.0)", T0)
        finally:
            await conn.close()

    frames = viewer.frames
    run(one_commit())
    viewer.wait_for(lambda v: all(v.rows.get(k) for k in ("temperature", "ph", "do", "pressure")))
    # All four tables' rows arrived in one frame: the pollers woke on the same tick.
    assert viewer.frames == frames + 1
    viewer.close()


def test_a_frozen_viewer_is_cut_off_at_the_socket(live: LiveServer, db: TestDb) -> None:
    """Regression: after the send timeout or an overflow the close frame could
    not flush and nothing aborted the socket: 200 frozen viewers held 777 MB
    of kernel send queue and 200 descriptors for as long as they stayed. The
    socket is now aborted once the close cannot get through."""
    stalled = StalledViewer("127.0.0.1", live.port)
    wait_until(lambda: len(live.ctx.hub) == 1)
    for k in range(6):
        run(
            db.execute(
                f"INSERT INTO {db.qualified('do')} "
                "SELECT $1::timestamp + i * interval '1 millisecond', 40.0 FROM generate_series(0, 99999) i",
                T0 + timedelta(hours=k),
            )
        )
        if live.ctx.hub.dropped:
            break
    wait_until(lambda: sum(live.ctx.hub.dropped.values()) == 1, timeout=30)
    wait_until(lambda: len(live.ctx.hub) == 0, timeout=10)
    # The server's end is gone: the stalled client reads what its kernel held, then the reset or EOF.
    stalled.sock.settimeout(10)
    ended = time.monotonic()
    with pytest.raises((ConnectionResetError, EOFError)):  # noqa: PT012 - reading until the end is the point
        while True:
            if not stalled.sock.recv(1 << 20):
                raise EOFError
    assert time.monotonic() - ended < 10
    stalled.close()


def test_shutdown_closes_viewers_with_going_away(db: TestDb) -> None:
    with serve(db.settings()) as server:
        viewer = Viewer(server.ws_url)
        viewer.wait_for(lambda v: bool(v.of_type("hello")))
    with pytest.raises(ConnectionClosed) as closed:
        viewer.conn.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1001


def test_descriptor_exhaustion_is_logged_once_a_minute() -> None:
    """Regression: with no descriptors left, asyncio logged the accept error on
    every attempt: 890,000 lines (390 MB) in 70 s."""
    only = AcceptErrorFilter(every=60)
    record = logging.LogRecord(
        "asyncio", logging.ERROR, __file__, 1, "socket.accept() out of system resource", (), None
    )
    assert only.filter(record)
    assert not any(only.filter(record) for _ in range(1000))
    other = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "something else", (), None)
    assert only.filter(other)


def test_a_reconnect_storm_shares_one_replay(live: LiveServer, db: TestDb) -> None:
    """Viewers asking for the same replay get the same frame, encoded and compressed once."""
    run(db.insert("ph", [(T0 + timedelta(seconds=i), 7.0 + i / 1e4) for i in range(5000)]))
    wait_until(lambda: live.ctx.store["ph"].n == 5000)
    since = (T0 - datetime(1970, 1, 1)) // timedelta(milliseconds=1) - 1
    replays = live.ctx.replays
    built, shared = replays.built, replays.shared
    viewers = [Viewer(live.ws_url), Viewer(live.ws_url)]
    for v in viewers:
        v.subscribe(since={"ph": since})
    last: tuple[float, float | None] = (since + 1 + 4_999_000, 7.0 + 4999 / 1e4)
    for v in viewers:
        v.wait_for(lambda v: len(v.rows.get("ph", [])) == 5000)
        assert v.rows["ph"][-1] == last
        v.close()
    assert (replays.built - built, replays.shared - shared) == (1, 1)


def test_one_address_cannot_take_every_viewer_slot(db: TestDb) -> None:
    """A hostile or runaway client opening connections in a loop is refused (503
    before the handshake) once its address holds MAX_VIEWERS_PER_CLIENT, while
    another viewer keeps receiving live rows."""
    with serve(db.settings(max_viewers_per_client=3)) as live:
        held = [Viewer(live.ws_url) for _ in range(3)]
        for _ in range(50):
            with pytest.raises(InvalidStatus) as refused:
                Viewer(live.ws_url)
            assert refused.value.response.status_code == 503
        run(db.insert("ph", [(T0, 7.0)]))
        held[0].wait_for(lambda v: len(v.rows.get("ph", [])) == 1)
        for v in held:
            v.close()


def test_a_huge_message_closes_only_its_sender(live: LiveServer, db: TestDb) -> None:
    """Inbound messages are bounded (MAX_MESSAGE_BYTES): a 1 MB frame closes its
    sender with 1009 (message too big); others are untouched."""
    big, other = Viewer(live.ws_url), Viewer(live.ws_url)
    big.wait_for(lambda v: bool(v.of_type("hello")))
    big.conn.send("x" * (1 << 20))
    with pytest.raises(ConnectionClosed) as closed:
        big.conn.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    run(db.insert("do", [(T0, 40.0)]))
    other.wait_for(lambda v: len(v.rows.get("do", [])) == 1)
    other.close()


def test_a_subscribe_naming_more_series_than_exist_is_refused_cheaply(live: LiveServer) -> None:
    viewer = Viewer(live.ws_url)
    since = {f"k{i}": 0 for i in range(500)}  # within MAX_MESSAGE_BYTES
    viewer.conn.send(json.dumps({"type": "subscribe", "since": since}))
    viewer.wait_for(lambda v: bool(v.of_type("error")))
    assert viewer.of_type("error")[0]["error"] == "'since' names more series than there are (4)"
    viewer.close()
