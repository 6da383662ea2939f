"""End-to-end delivery: PostgreSQL → poller → hub → WebSocket, on a real server."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx2 as httpx
import pytest

from tests.support.pg import TestDb, run
from tests.support.server import LiveServer, serve, wait_until
from tests.support.wsclient import StalledViewer, Viewer

T0 = datetime(2026, 1, 10, 8, 0, 0)


def ms(dt: datetime) -> int:
    return round((dt - datetime(1970, 1, 1)).total_seconds() * 1000)


@pytest.fixture
def history(db: TestDb) -> TestDb:
    run(db.insert("temperature", [(T0 + timedelta(seconds=i), 37.0) for i in range(600)]))
    run(db.insert("ph", [(T0 + timedelta(seconds=i), 7.1) for i in range(0, 600, 3)]))
    return db


@pytest.fixture
def server(history: TestDb) -> Iterator[LiveServer]:
    with serve(history.settings()) as live:
        yield live


NEWEST_TEMPERATURE = T0 + timedelta(seconds=599)
NEWEST_PH = T0 + timedelta(seconds=597)


def viewers(server: LiveServer, n: int) -> list[Viewer]:
    """Viewers known to be subscribed (from the newest stored row, so nothing is replayed)."""
    out = [Viewer(server.ws_url) for _ in range(n)]
    for v in out:
        v.subscribe_and_wait(since={"temperature": ms(NEWEST_TEMPERATURE)})
    return out


def test_hello_reports_the_database(server: LiveServer) -> None:
    v = Viewer(server.ws_url)
    v.wait_for(lambda v: bool(v.of_type("hello")))
    hello = v.of_type("hello")[0]
    assert hello == {
        "type": "hello",
        "demo": False,
        "db": {"state": "up", "since": hello["db"]["since"], "error": None, "kind": None},
    }
    v.close()


def test_every_row_reaches_every_viewer_once_even_sharing_a_timestamp(server: LiveServer, history: TestDb) -> None:
    """Regression: a poller asking only for time > last never sees a second row
    committed later at the same timestamp. The poller re-reads time >= last and
    takes the multiset difference with the stored rows."""
    vs = viewers(server, 3)
    t1 = T0 + timedelta(seconds=700)
    run(history.insert("temperature", [(t1, 38.0)]))
    for v in vs:
        v.wait_for(lambda v: v.count("temperature")[(ms(t1), 38.0)] == 1)
    # Same timestamp, committed after the first was delivered: a new value and
    # an exact duplicate of the first row.
    run(history.insert("temperature", [(t1, 38.5)]))
    run(history.insert("temperature", [(t1, 38.0)]))
    run(history.insert("temperature", [(t1 + timedelta(milliseconds=1), None)]))
    # Each poll re-reads the rows at the newest instant: the poll that found the
    # NULL row re-read those at t1, and the one that finds this sentinel re-reads
    # the NULL row. A repeat would come in those batches, before the sentinel.
    sentinel = t1 + timedelta(seconds=1)
    run(history.insert("temperature", [(sentinel, 39.0)]))
    expected = Counter({(ms(t1), 38.0): 2, (ms(t1), 38.5): 1, (ms(t1) + 1, None): 1, (ms(sentinel), 39.0): 1})
    for v in vs:
        v.wait_for(lambda v: v.count("temperature")[(ms(sentinel), 39.0)] == 1)
        assert v.count("temperature") == expected
        v.close()


def test_backfilled_row_reaches_viewers_within_15s_once(server: LiveServer, history: TestDb) -> None:
    vs = viewers(server, 2)
    past = NEWEST_TEMPERATURE - timedelta(minutes=10)
    first, second = (ms(past) + 500, 36.0), (ms(past) + 700, 36.5)
    run(history.insert("temperature", [(past + timedelta(milliseconds=500), 36.0)]))
    started = time.monotonic()
    for v in vs:
        v.wait_for(lambda v: v.count("temperature")[first] == 1, timeout=15)
    assert time.monotonic() - started < 15
    # A second late row in the same minute: the round that finds it fetches that
    # minute again, first row included, and must send only the new one.
    run(history.insert("temperature", [(past + timedelta(milliseconds=700), 36.5)]))
    for v in vs:
        v.wait_for(lambda v: v.count("temperature")[second] == 1, timeout=15)
        assert v.count("temperature") == Counter({first: 1, second: 1})
        late = [m for m in v.of_type("append") if m["series"] == "temperature" and not m["replay"]]
        assert [m["late"] for m in late] == [True, True]
    r = httpx.get(f"{server.url}/api/series/temperature/data", params={"start": ms(past), "end": ms(past) + 1000})
    assert (ms(past) + 500) in r.json()["t"]


def test_reconnect_replays_the_gap_without_duplicates(server: LiveServer, history: TestDb) -> None:
    first = Viewer(server.ws_url)
    first.subscribe_and_wait(since={"ph": ms(NEWEST_PH)})
    run(history.insert("ph", [(T0 + timedelta(seconds=601), 7.2)]))
    first.wait_for(lambda v: len(v.rows.get("ph", [])) == 1)
    since = {"ph": first.last_time("ph")}
    seq = dict(first.seq)
    first.close()
    # While disconnected: new rows, one sharing the last delivered timestamp.
    run(history.insert("ph", [(T0 + timedelta(seconds=602 + i), 7.3) for i in range(5)]))
    wait_until(lambda: server.ctx.store["ph"].n == 200 + 6)
    again = Viewer(server.ws_url)
    again.subscribe(since=since, seq=seq)
    again.wait_for(lambda v: len(v.rows.get("ph", [])) == 5)
    replay = [m for m in again.of_type("append") if m["series"] == "ph"]
    assert replay[0]["replay"] is True
    run(history.insert("ph", [(T0 + timedelta(seconds=610), 7.4)]))
    again.wait_for(lambda v: len(v.rows.get("ph", [])) == 6)
    # A sentinel: everything sent before it has arrived when it does.
    run(history.insert("ph", [(T0 + timedelta(seconds=611), 7.5)]))
    again.wait_for(lambda v: (ms(T0 + timedelta(seconds=611)), 7.5) in v.rows["ph"])
    times = [t for t, _ in again.rows["ph"]]
    assert times == [ms(T0 + timedelta(seconds=s)) for s in (602, 603, 604, 605, 606, 610, 611)]
    assert not again.of_type("resync")
    again.close()


def test_reconnect_after_missed_backfill_asks_for_resync(server: LiveServer, history: TestDb) -> None:
    first = Viewer(server.ws_url)
    first.subscribe_and_wait(since={"ph": ms(NEWEST_PH)})
    run(history.insert("ph", [(T0 + timedelta(seconds=601), 7.2)]))
    first.wait_for(lambda v: len(v.rows.get("ph", [])) == 1)
    since, seq = {"ph": first.last_time("ph")}, dict(first.seq)
    first.close()
    run(history.insert("ph", [(T0 + timedelta(seconds=100, milliseconds=5), 6.9)]))
    wait_until(lambda: server.ctx.store["ph"].n == 202, timeout=15)
    again = Viewer(server.ws_url)
    again.subscribe(since=since, seq=seq)
    again.wait_for(lambda v: bool(v.of_type("resync")))
    assert again.of_type("resync")[0]["series"] == ["ph"]
    again.close()


def test_bad_subscribe_gets_an_error_message_not_a_disconnect(server: LiveServer, history: TestDb) -> None:
    v = Viewer(server.ws_url)
    v.conn.send("not json")
    v.conn.send(json.dumps({"type": "subscribe", "since": {"nope": 1}}))
    v.conn.send(json.dumps({"type": "subscribe", "since": {"ph": "x"}}))
    v.wait_for(lambda v: len(v.of_type("error")) == 3)
    errors = [m["error"] for m in v.of_type("error")]
    assert errors[1] == "unknown series nope"
    assert errors[2] == "'since.ph' must be a number"
    # Still connected: a valid subscribe is served (its replay), and live rows follow.
    since = T0 + timedelta(seconds=591)
    v.subscribe_and_wait(since={"ph": ms(since)})
    assert v.rows["ph"] == [(ms(since) + 3000, 7.1), (ms(since) + 6000, 7.1)]
    run(history.insert("ph", [(T0 + timedelta(seconds=605), 7.3)]))
    v.wait_for(lambda v: len(v.rows["ph"]) == 3)
    last: tuple[float, float | None] = (ms(T0 + timedelta(seconds=605)), 7.3)
    assert v.rows["ph"][-1] == last
    v.close()


def test_missing_table_shows_as_missing_while_others_work(history: TestDb) -> None:
    run(history.drop_table("pressure"))
    with serve(history.settings()) as live:
        series = {s["key"]: s for s in httpx.get(f"{live.url}/api/series").json()}
        assert series["pressure"]["state"] == "missing"
        assert "does not exist" in series["pressure"]["error"]
        assert series["temperature"]["count"] == 600
        r = httpx.get(f"{live.url}/api/series/pressure/data")
        assert r.status_code == 200
        assert r.json()["t"] == []
        v = Viewer(live.ws_url)
        v.subscribe_and_wait(since={"temperature": ms(NEWEST_TEMPERATURE)})
        run(history.insert("temperature", [(T0 + timedelta(seconds=900), 37.5)]))
        v.wait_for(lambda v: len(v.rows.get("temperature", [])) == 1)
        v.close()


def test_a_stalled_viewer_is_dropped_and_others_keep_receiving(history: TestDb) -> None:
    """One browser that stops reading must not hold up the rest: its sends time
    out (or its bounded queue overflows) and it is closed; the others get every row."""
    with serve(history.settings(client_buffer_bytes=8 << 20, replay_max_rows=1000, send_timeout=0.5)) as live:
        stalled = StalledViewer("127.0.0.1", live.port, since={"do": 0})
        healthy = Viewer(live.ws_url)
        healthy.subscribe_and_wait(since={"do": 0})
        # Big batches (~2 MB of JSON each) fill the stalled client's socket
        # buffers (several MB on loopback) quickly.
        batch = 100_000
        for k in range(12):
            base = T0 + timedelta(hours=1 + k)
            run(
                history.execute(
                    f"INSERT INTO {history.qualified('do')} "
                    "SELECT $1::timestamp + i * interval '1 millisecond', 40.0 FROM generate_series(0, $2 - 1) i",
                    base,
                    batch,
                )
            )
            healthy.wait_for(lambda v, k=k: len(v.rows.get("do", [])) == batch * (k + 1), timeout=30)
        wait_until(lambda: len(live.ctx.hub) == 1, timeout=15)
        assert sum(live.ctx.hub.dropped.values()) == 1
        assert len(healthy.rows["do"]) == 12 * batch
        healthy.close()
        stalled.close()
