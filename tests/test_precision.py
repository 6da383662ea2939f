"""The wire is exact at the stored precision: PostgreSQL keeps microseconds,
and so must `since`, replays, windows and exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx2 as httpx
import pytest

from tests.support.pg import TestDb, run
from tests.support.server import LiveServer, serve, wait_until
from tests.support.wsclient import Viewer

T0 = datetime(2026, 1, 10, 8, 0, 0)
EPOCH = datetime(1970, 1, 1)


def ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


@pytest.fixture
def server(db: TestDb) -> Iterator[LiveServer]:
    run(db.insert("ph", [(T0 + timedelta(seconds=i), 7.0) for i in range(10)]))
    with serve(db.settings()) as live:
        yield live


def test_a_bare_client_gets_live_rows_without_subscribing(server: LiveServer, db: TestDb) -> None:
    """The contract says a client *may* subscribe: one that never does still gets live appends."""
    v = Viewer(server.ws_url)
    v.wait_for(lambda v: bool(v.of_type("hello")))
    run(db.insert("ph", [(T0 + timedelta(seconds=20), 7.5)]))
    v.wait_for(lambda v: v.rows.get("ph") == [(ms(T0) + 20_000, 7.5)])
    v.close()


def test_reconnect_across_a_row_inside_the_last_millisecond(server: LiveServer, db: TestDb) -> None:
    """Regression: a viewer holding a row at .123400 reconnected with `since` in
    whole ms; a row committed meanwhile at .123700 fell inside that millisecond
    and was never replayed. Wire times now carry µs as fractional ms, and the
    replay starts exactly after the viewer's own newest row."""
    held = T0 + timedelta(seconds=30, microseconds=123_400)
    first = Viewer(server.ws_url)
    run(db.insert("ph", [(held, 7.1)]))
    first.wait_for(lambda v: len(v.rows.get("ph", [])) == 1)
    since = first.last_time("ph")
    assert since == ms(T0) + 30_123.4
    first.close()
    run(db.insert("ph", [(held + timedelta(microseconds=300), 7.2), (held + timedelta(seconds=1), 7.3)]))
    wait_until(lambda: server.ctx.store["ph"].n == 13)
    again = Viewer(server.ws_url)
    again.rows["ph"] = list(first.rows["ph"])
    again.subscribe(since={"ph": since})
    again.wait_for(lambda v: len(v.rows["ph"]) == 3)
    assert again.rows["ph"] == [(since, 7.1), (ms(T0) + 30_123.7, 7.2), (ms(T0) + 31_123.4, 7.3)]
    again.pump(0.3)
    assert len(again.rows["ph"]) == 3  # and nothing twice
    again.close()


def test_a_replay_replaces_rows_already_received_live(server: LiveServer, db: TestDb) -> None:
    """A client receives live rows from the moment it connects; rows that reach it
    live and are in its replay too are kept once, because the replay is
    authoritative above `since`."""
    v = Viewer(server.ws_url)
    v.wait_for(lambda v: bool(v.of_type("hello")))
    since = ms(T0) + 9_000  # the newest row it holds from history
    v.rows["ph"] = [(since, 7.0)]
    run(db.insert("ph", [(T0 + timedelta(seconds=11), 7.6)]))
    v.wait_for(lambda v: len(v.rows["ph"]) == 2)  # arrived live
    v.subscribe(since={"ph": since})
    v.wait_for(lambda v: any(m.get("replay") for m in v.of_type("append")))
    assert v.rows["ph"] == [(since, 7.0), (ms(T0) + 11_000, 7.6)]
    v.close()


def test_a_whole_millisecond_end_takes_in_rows_with_microseconds(server: LiveServer, db: TestDb) -> None:
    """Regression: a row at .123456 was drawn by the chart of a window ending at
    that epoch millisecond, but left out of /data, /stats and the CSV of it."""
    row = T0 + timedelta(seconds=50, microseconds=123_456)
    run(db.insert("ph", [(row, 6.5)]))
    wait_until(lambda: server.ctx.store["ph"].n == 11)
    params = {"start": ms(T0) + 40_000, "end": ms(row)}
    data = httpx.get(f"{server.url}/api/series/ph/data", params=params).json()
    assert data["t"] == [ms(T0) + 50_123.456]
    assert data["v"] == [6.5]
    stats = httpx.get(f"{server.url}/api/series/ph/stats", params=params).json()
    assert (stats["count"], stats["last"], stats["last_t"]) == (1, 6.5, ms(T0) + 50_123.456)
    text = httpx.get(f"{server.url}/api/export.csv", params={**params, "series": "ph", "layout": "long"}).text
    assert list(csv.reader(io.StringIO(text)))[1:] == [["ph", "2026-01-10T08:00:50.123456Z", "6.5"]]


def test_history_says_where_the_outages_are_and_what_held_before(server: LiveServer, db: TestDb) -> None:
    """The chart breaks its line only at a real outage, which the server finds on
    the raw rows (so M4 cannot invent or hide one), and draws the value in
    force at its left edge from the row before the window."""
    run(db.insert("ph", [(T0 + timedelta(seconds=10 + i), 7.0) for i in range(30)]))
    run(db.insert("ph", [(T0 + timedelta(minutes=30, seconds=i), 7.1) for i in range(30)]))
    wait_until(lambda: server.ctx.store["ph"].n == 70)
    body = httpx.get(
        f"{server.url}/api/series/ph/data", params={"start": ms(T0) + 5_500, "end": ms(T0) + 3_600_000, "points": 10}
    ).json()
    # 1 s sampling: the outage threshold is the 10 s floor.
    assert body["gap_ms"] == 10_000
    assert body["before"] == {"t": ms(T0) + 5_000, "v": 7.0}
    assert body["gaps"] == [[ms(T0) + 39_000, ms(T0) + 1_800_000]]
    assert body["downsampled"] is True
    # Both ends of the outage survive downsampling.
    assert ms(T0) + 39_000 in body["t"]
    assert ms(T0) + 1_800_000 in body["t"]
