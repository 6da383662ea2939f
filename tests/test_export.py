"""CSV export: exact raw rows of the window, wide or long, streamed."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from realtime.app import create_app
from realtime.history import POOL_SIZE
from realtime.sim.tables import fill_rows
from tests.support.http import request
from tests.support.pg import TestDb, run
from tests.support.server import LiveServer, serve, wait_until
from tests.support.slowhttp import SlowDownload

T0 = datetime(2025, 6, 1, 0, 0, 0)


@pytest.fixture
def client(db: TestDb) -> Iterator[TestClient]:
    run(db.insert("temperature", [(T0 + timedelta(seconds=i), 37.0 + i / 1000) for i in range(120_000)]))
    run(db.insert("ph", [(T0 + timedelta(seconds=2 * i), 7.25) for i in range(100)]))
    run(db.insert("ph", [(T0 + timedelta(seconds=4), 7.5), (T0 + timedelta(seconds=6), None)]))
    run(db.insert("do", [(T0 + timedelta(milliseconds=1500), 40.1)]))
    app = create_app(db.settings())
    with TestClient(app) as c:
        wait_until(lambda: all(s.loaded for s in app.state.ctx.store.series.values()))
        yield c


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_wide_merges_series_by_instant(client: TestClient) -> None:
    r = client.get("/api/export.csv", params={"start": "2025-06-01T00:00:00Z", "end": "2025-06-01T00:00:10Z"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="bioreactor_20250601T000000Z_20250601T000010Z.csv"' in r.headers["content-disposition"]
    out = rows(r.text)
    assert out[0] == ["time", "Temperature (°C)", "pH", "Dissolved oxygen (%)", "Pressure (psi)"]
    assert out[1] == ["2025-06-01T00:00:00.000Z", "37.0", "7.25", "", ""]
    assert out[2] == ["2025-06-01T00:00:01.000Z", "37.001", "", "", ""]
    assert out[3] == ["2025-06-01T00:00:01.500Z", "", "", "40.1", ""]
    # Two pH rows at 00:00:04: the second gets a line of its own, nothing is lost.
    at4 = [row for row in out if row[0] == "2025-06-01T00:00:04.000Z"]
    assert at4 == [
        ["2025-06-01T00:00:04.000Z", "37.004", "7.25", "", ""],
        ["2025-06-01T00:00:04.000Z", "", "7.5", "", ""],
    ]
    assert out[-1][0] == "2025-06-01T00:00:10.000Z"  # inclusive end
    assert len(out) == 1 + 11 + 1 + 2  # header, 11 seconds, the DO instant, two extra pH rows


def test_long_layout_and_series_choice(client: TestClient) -> None:
    params = {"start": "2025-06-01T00:00:00Z", "end": "2025-06-01T00:00:06Z", "series": "ph", "layout": "long"}
    out = rows(client.get("/api/export.csv", params=params).text)
    assert out[0] == ["series", "time", "value"]
    assert ["ph", "2025-06-01T00:00:06.000Z", ""] in out
    assert len(out) == 1 + 4 + 2


def test_large_window_streams_every_row(client: TestClient) -> None:
    params = {"start": "2025-06-01T00:00:00Z", "end": "2025-06-03T00:00:00Z", "series": "temperature"}
    with client.stream("GET", "/api/export.csv", params=params) as r:
        lines = sum(chunk.count("\n") for chunk in r.iter_text())
    assert lines == 1 + 120_000


def test_default_window_is_last_hour_of_data(client: TestClient) -> None:
    out = rows(client.get("/api/export.csv", params={"series": "temperature"}).text)
    assert len(out) == 1 + 3601
    assert out[-1][0] == "2025-06-02T09:19:59.000Z"


@pytest.mark.parametrize(
    ("params", "status", "parameter"),
    [
        ({"layout": "tall"}, 400, "layout"),
        ({"series": "temperature,nope"}, 404, "series"),
        ({"series": "ph,ph"}, 400, "series"),
        ({"series": ","}, 400, "series"),
        ({"start": "soon"}, 400, "start"),
        ({"start": "2025-06-02", "end": "2025-06-01"}, 400, "start"),
    ],
)
def test_bad_export_parameters(client: TestClient, params: dict[str, str], status: int, parameter: str) -> None:
    r = client.get("/api/export.csv", params=params)
    assert r.status_code == status
    assert r.json()["parameter"] == parameter


# -- exports read from PostgreSQL, through a live server ------------------------------

BIG = 300_000
MAX_EXPORTS = 3  # MAX_EXPORTS, set below its default
BIG_END = datetime(2025, 7, 1)
BIG_WINDOW = {"series": "temperature", "layout": "long", "start": "2025-01-01T00:00:00Z", "end": "2025-07-02T00:00:00Z"}


@pytest.fixture
def paged(db: TestDb) -> Iterator[LiveServer]:
    """BIG rows in PostgreSQL, a store that holds 1000 of them: exports read pages of 5,000."""

    async def fill() -> None:
        conn = await db.connect()
        try:
            await fill_rows(conn, db.spec("temperature"), rows=BIG, end=BIG_END, interval_s=1.0, seed=8)
        finally:
            await conn.close()

    run(fill())
    with serve(db.settings(store_max_points=1000, max_exports=MAX_EXPORTS)) as live:
        live.ctx.history.chunk_rows = 5_000
        yield live


def _exported_bytes(live: LiveServer) -> float:
    return live.ctx.metrics.registry.get_sample_value("realtime_export_bytes_total") or 0.0


def test_paged_export_has_every_row_in_order(paged: LiveServer) -> None:
    reply = request(paged.port, "/api/export.csv?" + urlencode(BIG_WINDOW))
    assert reply.status == 200
    out = rows(reply.text)
    assert len(out) == 1 + BIG
    times = [r[1] for r in out[1:]]
    assert times == sorted(times)
    assert len(set(times)) == BIG
    # Pages of 5,000 and none left open: every connection is back in the pool.
    assert paged.ctx.history.pages_read >= BIG // 5_000
    assert paged.ctx.history.exports.taken == 0


def test_head_sends_headers_only_and_reads_nothing(paged: LiveServer) -> None:
    reply = request(paged.port, "/api/export.csv?" + urlencode(BIG_WINDOW), method="HEAD")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/csv")
    assert reply.headers["content-disposition"].startswith("attachment;")
    assert reply.body == b""
    assert paged.ctx.history.pages_read == 0
    assert _exported_bytes(paged) == 0
    bad = request(paged.port, "/api/export.csv?layout=tall", method="HEAD")
    assert bad.status == 400


def test_a_client_that_goes_away_stops_its_export(paged: LiveServer) -> None:
    history = paged.ctx.history
    download = SlowDownload(paged.port, "/api/export.csv", BIG_WINDOW)
    assert download.status == 200
    download.read(200_000)
    wait_until(lambda: history.pages_read >= 2)
    download.close()
    wait_until(lambda: history.exports.taken == 0)
    # Its slot is free, so nothing more can be read for it: it stopped early, far from the end.
    assert history.pages_read < BIG // 5_000 // 4  # 60 pages in all; socket buffers hold a few
    assert _exported_bytes(paged) < 0.5 * BIG * 40


def test_exports_beyond_the_limit_are_refused_with_429(paged: LiveServer) -> None:
    history = paged.ctx.history
    stalled = [SlowDownload(paged.port, "/api/export.csv", BIG_WINDOW) for _ in range(MAX_EXPORTS)]
    assert all(d.status == 200 for d in stalled)
    wait_until(lambda: history.exports.taken == MAX_EXPORTS)
    refused = request(paged.port, "/api/export.csv?" + urlencode(BIG_WINDOW))
    assert refused.status == 429
    assert refused.headers["retry-after"] == "5"
    assert refused.json() == {"error": "too many CSV exports at once; try again shortly", "retry_after_s": 5}
    # Stalled clients hold no database connection: history still answers from PostgreSQL.
    params = {"start": "2025-05-01T00:00:00Z", "end": "2025-05-01T00:00:09Z"}
    assert request(paged.port, "/api/series/temperature/data?" + urlencode(params)).status == 200
    for d in stalled:
        d.close()
    wait_until(lambda: history.exports.taken == 0)
    assert request(paged.port, "/api/export.csv?" + urlencode({**BIG_WINDOW, "end": "2025-03-01"})).status == 200


def test_reads_that_wait_too_long_for_a_connection_get_503(paged: LiveServer, db: TestDb) -> None:
    """Every history connection is stuck behind a lock: the next read waits, then gets a clear 503."""
    history = paged.ctx.history
    history.acquire_timeout = 0.3
    old = {"start": "2025-05-01T00:00:00Z", "end": "2025-05-02T00:00:00Z", "points": "100"}
    url = "/api/series/temperature/data?" + urlencode(old)

    async def hold_lock_until(release: threading.Event) -> None:
        conn = await db.connect()
        try:
            async with conn.transaction():
                await conn.execute(f"LOCK TABLE {db.qualified('temperature')} IN ACCESS EXCLUSIVE MODE")
                locked.set()
                await asyncio.get_running_loop().run_in_executor(None, release.wait)
        finally:
            await conn.close()

    locked, release = threading.Event(), threading.Event()
    with ThreadPoolExecutor(max_workers=POOL_SIZE + 1) as pool:
        holder = pool.submit(asyncio.run, hold_lock_until(release))
        assert locked.wait(10)
        blocked = [pool.submit(request, paged.port, url) for _ in range(POOL_SIZE)]
        try:
            wait_until(lambda: _waiting_on_locks(db) >= POOL_SIZE)
            busy = request(paged.port, url)
        finally:
            release.set()
        holder.result()
        assert busy.status == 503
        assert busy.headers["retry-after"] == "5"
        assert "parameter" not in busy.json()
        assert [f.result().status for f in blocked] == [200] * POOL_SIZE
    assert paged.ctx.health.state == "up"  # a busy pool is not a database outage


def _waiting_on_locks(db: TestDb) -> int:
    async def count() -> int:
        conn = await db.connect()
        try:
            n: int = await conn.fetchval(
                # History reads a closed range ("time" <= $2); the pollers, open ones.
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%\"time\" <= %'"
            )
            return n
        finally:
            await conn.close()

    return run(count())
