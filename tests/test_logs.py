"""What the log says: each database outage and recovery once, and no traceback for
what is normal (a viewer vanishing)."""

from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from tests.support.pg import PgServer, TestDb, create_database, create_schema, drop_database, run
from tests.support.server import serve, wait_until
from tests.support.wsclient import StalledViewer


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """Every record of the app and of uvicorn (whose loggers do not propagate to the root)."""
    rec = Recorder()
    loggers = [logging.getLogger(name) for name in ("realtime", "uvicorn", "uvicorn.error", "asyncio")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(rec)
        lg.setLevel(logging.INFO)  # as run-app sets it
    yield rec
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(rec)
        lg.setLevel(level)


def test_an_abrupt_disconnect_logs_no_traceback(db: TestDb, recorder: Recorder) -> None:
    """Regression: 20 of 20 abrupt drops logged "Exception in ASGI application",
    an ExceptionGroup around WebSocketDisconnect. A vanishing viewer is normal."""
    run(db.insert("ph", [(datetime(2026, 5, 1) + timedelta(seconds=i), 7.0) for i in range(10)]))
    with serve(db.settings(poll_interval=0.1)) as live:
        for _ in range(20):
            viewer = StalledViewer("127.0.0.1", live.port)
            # RST instead of FIN: the way a crashed browser or a pulled cable ends.
            viewer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            viewer.sock.close()
        wait_until(lambda: len(live.ctx.hub) == 0, timeout=10)
        run(db.insert("ph", [(datetime(2026, 5, 1, 1), 7.1)]))
        wait_until(lambda: live.ctx.store["ph"].n == 11)
    bad = [r for r in recorder.records if r.levelno >= logging.ERROR or r.exc_info]
    assert bad == [], [r.getMessage() for r in bad]


def test_an_outage_and_its_recovery_are_logged_once_each(restartable_server: PgServer, recorder: Recorder) -> None:
    """Regression: a 2-minute stop, a kill -9 of the postmaster and "database down at
    start" left no trace in the log; only /readyz and the WebSocket showed them."""
    admin = run(create_database(restartable_server.admin))
    db = run(create_schema(admin, restartable_server))
    try:
        with serve(db.settings(poll_interval=0.1)) as live:
            recorder.records.clear()
            restartable_server.stop()
            wait_until(lambda: live.ctx.health.state == "down", timeout=15)
            restartable_server.start()
            wait_until(lambda: live.ctx.health.state == "up", timeout=30)
        messages = [r.getMessage() for r in recorder.records if r.name == "realtime.health"]
        assert [m.split(" (")[0] for m in messages] == ["database down", "database up"]
        bad = [r for r in recorder.records if r.levelno >= logging.ERROR or r.exc_info]
        assert bad == [], [r.getMessage() for r in bad]
    finally:
        restartable_server.start()
        run(drop_database(restartable_server.admin, admin.database))


def test_a_refused_viewer_is_not_an_error(db: TestDb, recorder: Recorder) -> None:
    """Regression: each viewer refused with 503 (MAX_VIEWERS_PER_CLIENT) logged
    "ASGI callable returned without completing handshake" at ERROR: an attacker
    opening connections in a loop filled the log. A refusal is a complete answer."""
    from websockets.exceptions import InvalidStatus

    from tests.support.wsclient import Viewer

    with serve(db.settings(max_viewers_per_client=1)) as live:
        held = Viewer(live.ws_url)
        for _ in range(5):
            with pytest.raises(InvalidStatus):
                Viewer(live.ws_url)
        held.close()
    bad = [r for r in recorder.records if r.levelno >= logging.ERROR]
    assert bad == [], [r.getMessage() for r in bad]
