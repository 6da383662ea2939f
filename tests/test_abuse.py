"""Abuse does not reach other viewers: slow CSV downloads and a connection flood from one address
leave another viewer's live rows on time."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import pytest

from realtime.sim.tables import fill_rows
from tests.support.latency import LiveLatency
from tests.support.pg import TestDb, run
from tests.support.server import LiveServer, serve
from tests.support.slowhttp import SlowDownload

ROWS = 300_000
PER_CLIENT = 20
MAX_EXPORTS = 4
ATTEMPTS = 2_000
ABUSER = "127.0.0.2"  # all of 127/8 is loopback: one address apart from the viewer's
WINDOW = {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
HANDSHAKE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.fixture
def live(db: TestDb) -> Iterator[LiveServer]:
    async def fill() -> None:
        conn = await db.connect()
        try:
            await fill_rows(conn, db.spec("temperature"), rows=ROWS, end=datetime(2025, 7, 1), seed=9)
        finally:
            await conn.close()

    run(fill())
    with serve(db.settings(max_viewers_per_client=PER_CLIENT, max_exports=MAX_EXPORTS)) as server:
        yield server


def _flood(port: int, attempts: int, held: list[socket.socket], statuses: Counter[int], lock: threading.Lock) -> None:
    """WebSocket handshakes from one address; admitted ones are held open, refused ones closed."""
    for _ in range(attempts):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((ABUSER, 0))
        sock.settimeout(10)
        sock.connect(("127.0.0.1", port))
        sock.sendall(HANDSHAKE)
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
        status = int(head[9:12]) if len(head) >= 12 else 0
        with lock:
            statuses[status] += 1
        if status == 101:
            held.append(sock)
        else:
            sock.close()


def test_slow_downloads_and_a_connection_flood_do_not_delay_live_rows(live: LiveServer, db: TestDb) -> None:
    held: list[socket.socket] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    with LiveLatency(db, live.ws_url, "ph") as probe:
        downloads = [
            SlowDownload(live.port, "/api/export.csv", {**WINDOW, "layout": ("wide", "long")[i % 2]}, source=ABUSER)
            for i in range(16)
        ]
        # Half read a little now and then, half not at all.
        trickle = [d for d in downloads[::2] if d.status == 200]

        def read_slowly() -> None:
            while not stop.is_set():
                for d in trickle:
                    d.read(len(d.received) + 1024)
                stop.wait(0.2)

        reader = threading.Thread(target=read_slowly)
        reader.start()
        flooders = [
            threading.Thread(target=_flood, args=(live.port, ATTEMPTS // 8, held, statuses, lock)) for _ in range(8)
        ]
        started = time.monotonic()
        for t in flooders:
            t.start()
        for t in flooders:
            t.join()
        flood_s = time.monotonic() - started
        stop.set()
        reader.join()
        export_statuses = Counter(d.status for d in downloads)
        for d in downloads:
            d.close()
        for sock in held:
            sock.close()

    assert export_statuses == {200: MAX_EXPORTS, 429: 16 - MAX_EXPORTS}
    assert sum(statuses.values()) == ATTEMPTS
    assert statuses[101] == PER_CLIENT
    assert statuses[503] == ATTEMPTS - PER_CLIENT
    lat = probe.latencies
    assert probe.missing == 0
    assert len(lat) >= 5, f"too few rows measured during {flood_s:.1f} s of abuse"
    assert max(lat) <= 1.0, f"live rows delayed: max {max(lat):.3f} s, p50 {lat[len(lat) // 2]:.3f} s"
