"""The poller against a real PostgreSQL: load, poll, reconcile, and what it tells the store.

The first tests drive one :class:`Poller` step by step on a connection of the
app's read-only role; the rest run the app, whose pollers loop on their own.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.testclient import TestClient

from realtime.app import create_app
from realtime.config import Settings
from realtime.db import Conn, create_pool
from realtime.health import DbHealth
from realtime.hub import Hub, Viewer
from realtime.poller import Poller
from realtime.store import SeriesData, Store
from realtime.times import us_from_dt
from tests.support.pg import READER_ROLE, TestDb, run
from tests.support.server import wait_until

T0 = datetime(2026, 3, 1, 6, 0, 0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def us(seconds: float) -> int:
    return us_from_dt(at(seconds))


def ms(seconds: float) -> int:
    return us(seconds) // 1000


def values(xs: list[float]) -> list[float | None]:
    return [None if math.isnan(x) else x for x in xs]


@dataclass
class Rig:
    """One poller on one table, its store entry, and a hub client recording what it publishes."""

    poller: Poller
    series: SeriesData
    hub: Hub
    viewer: Viewer
    conn: Conn

    def published(self) -> list[dict[str, Any]]:
        """What a viewer would receive by now: every message of the frames sent."""
        self.hub.flush()
        out: list[dict[str, Any]] = []
        while self.viewer.queue:
            data = json.loads(self.viewer.queue.popleft())
            out.extend(data if isinstance(data, list) else [data])
        self.viewer.queued_bytes = 0
        return out


@asynccontextmanager
async def rig(db: TestDb, key: str, **overrides: Any) -> AsyncIterator[Rig]:
    settings = db.settings(**overrides)
    hub = Hub(limit_bytes=1 << 24, send_timeout=5.0)
    series = SeriesData(key)
    pool = await create_pool(db.reader, max_size=1)
    try:
        async with hub.connect(None) as viewer, pool.acquire() as conn:
            poller = Poller(db.spec(key), settings, pool, series, hub, DbHealth(on_change=lambda _: None))
            yield Rig(poller, series, hub, viewer, conn)
    finally:
        await pool.close()


async def test_load_reads_every_row_in_time_order_and_asks_viewers_to_redraw(db: TestDb) -> None:
    await db.insert("ph", [(at(i), float(i)) for i in range(1, 500)])
    # Committed last, so stored after the rest: the load must sort them into place.
    await db.insert("ph", [(at(0), -1.0), (at(10), None)])
    async with rig(db, "ph") as r:
        seq = r.series.seq
        await r.poller.step(r.conn)
        s = r.series
        assert (s.loaded, s.state, s.error, s.covered_from) == (True, "ok", None, None)
        assert s.count == s.n == 501
        assert s.t.tolist() == [us(0)] + [us(i) for i in range(1, 11)] + [us(i) for i in range(10, 500)]
        assert s.v[0] == -1.0
        assert sorted(values(s.values_at(us(10)).tolist()), key=str) == [10.0, None]
        assert s.null_count == 1
        assert seq == 0
        assert s.seq == 501  # the rows of the table it knows
        assert r.published() == [{"type": "resync", "series": ["ph"]}]


async def test_an_empty_table_loads_as_empty_and_its_first_row_makes_it_ok(db: TestDb) -> None:
    async with rig(db, "do") as r:
        await r.poller.step(r.conn)
        assert (r.series.loaded, r.series.state, r.series.n) == (True, "empty", 0)
        assert await r.poller.poll(r.conn) is None
        await db.insert("do", [(at(5), 40.0)])
        await r.poller.step(r.conn)
        assert (r.series.state, r.series.t.tolist()) == ("ok", [us(5)])


async def test_poll_fetches_only_rows_newer_than_the_store(db: TestDb) -> None:
    await db.insert("temperature", [(at(i), 37.0) for i in range(100)])
    async with rig(db, "temperature") as r:
        await r.poller.step(r.conn)
        r.published()
        seq = r.series.seq
        await db.insert("temperature", [(at(100), 37.5), (at(101.5), None), (at(102), 38.0)])
        await r.poller.step(r.conn)
        assert r.published() == [
            {
                "type": "append",
                "series": "temperature",
                "t": [ms(100), ms(101.5), ms(102)],
                "v": [37.5, None, 38.0],
                "seq": seq + 3,  # the rows the table now holds
                "late": False,
                "replay": False,
            }
        ]
        assert r.series.n == 103
        # Nothing new: no batch, no message, and the rows at the newest instant are not repeated.
        assert await r.poller.poll(r.conn) is None
        assert r.published() == []
        assert r.series.seq == seq + 3


async def test_poll_catches_rows_committed_later_at_the_newest_timestamp(db: TestDb) -> None:
    """Regression: a poller asking only for time > newest never sees a row
    committed later at exactly the newest timestamp. It re-reads time >= newest
    and keeps the multiset difference with the stored rows (NULL equal to NULL)."""
    await db.insert("ph", [(at(0), 7.0), (at(1), 7.1)])
    async with rig(db, "ph") as r:
        await r.poller.step(r.conn)
        # Another value and an exact duplicate of the stored row, both at the newest instant.
        await db.insert("ph", [(at(1), 7.2), (at(1), 7.1)])
        batch = await r.poller.poll(r.conn)
        assert batch is not None
        assert batch.t.tolist() == [us(1), us(1)]
        assert sorted(batch.v.tolist()) == [7.1, 7.2]
        assert batch.late  # at the newest instant, not after it: merged in place
        assert await r.poller.poll(r.conn) is None
        assert sorted(r.series.values_at(us(1)).tolist()) == [7.1, 7.1, 7.2]
        # NULLs at the newest instant: one stored, then one more committed.
        await db.insert("ph", [(at(2), None)])
        first = await r.poller.poll(r.conn)
        assert first is not None
        assert values(first.v.tolist()) == [None]
        assert await r.poller.poll(r.conn) is None
        await db.insert("ph", [(at(2), None)])
        second = await r.poller.poll(r.conn)
        assert second is not None
        assert (second.t.tolist(), values(second.v.tolist())) == ([us(2)], [None])
        assert await r.poller.poll(r.conn) is None
        assert r.series.n == 6
        assert r.series.null_count == 2


async def test_reconcile_finds_late_rows_within_the_horizon_only(db: TestDb) -> None:
    """Guards store-and-forward backfill: rows older than the newest arrive only
    through reconciliation, once each, and only within RECONCILE_HORIZON."""
    await db.insert("do", [(at(i), 40.0) for i in range(0, 600, 2)])
    # Newest row at 598 s; a 60 s horizon reaches back to the minute of 538 s, i.e. 480 s.
    async with rig(db, "do", reconcile_horizon=60) as r:
        await r.poller.step(r.conn)
        r.published()
        await db.insert("do", [(at(500.5), 41.0), (at(500.75), 42.0), (at(479), 43.0), (at(100), 44.0)])
        assert await r.poller.poll(r.conn) is None  # older than the newest row: not the poll's business
        batch = await r.poller.reconcile(r.conn)
        assert batch is not None
        assert (batch.t.tolist(), batch.v.tolist(), batch.late) == ([us(500.5), us(500.75)], [41.0, 42.0], True)
        (message,) = r.published()
        assert (message["t"], message["late"], message["replay"]) == ([ms(500.5), ms(500.75)], True, False)
        # Once only: the minute's counts now agree.
        assert await r.poller.reconcile(r.conn) is None
        # Another late row in the same minute: that minute is read again, and only the new row merged.
        await db.insert("do", [(at(501.25), 45.0)])
        again = await r.poller.reconcile(r.conn)
        assert again is not None
        assert again.t.tolist() == [us(501.25)]
        assert r.series.n == 300 + 3
        # Before the horizon: never looked for.
        assert r.series.values_at(us(479)).tolist() == []
        assert r.series.values_at(us(100)).tolist() == [40.0]


@contextmanager
def app_store(settings: Settings) -> Iterator[tuple[TestClient, Store]]:
    app = create_app(settings)
    with TestClient(app) as client:
        store: Store = app.state.ctx.store
        wait_until(lambda: all(s.loaded for s in store.series.values()))
        yield client, store


def test_store_horizon_keeps_recent_rows_in_memory_and_older_ones_in_sql(db: TestDb) -> None:
    """Guards STORE_HORIZON: only the newest horizon of rows is held; older ones
    are read from PostgreSQL, and the series' count includes them."""
    run(db.insert("temperature", [(at(i), float(i)) for i in range(3600)]))
    with app_store(db.settings(store_horizon=600)) as (c, store):
        s = store["temperature"]
        # Newest 3599 s: rows from 2999 s on are in memory.
        assert (s.n, s.rows_before, s.covered_from) == (601, 2999, us(2999))
        assert s.t[0] == us(2999)

        def listed() -> dict[str, Any]:
            body: list[dict[str, Any]] = c.get("/api/series").json()
            return next(x for x in body if x["key"] == "temperature")

        assert (listed()["count"], listed()["first"]) == (3600, "2026-03-01T06:00:00.000Z")
        old = c.get("/api/series/temperature/data", params={"start": ms(10), "end": ms(19)}).json()
        assert (old["t"], old["v"]) == ([ms(i) for i in range(10, 20)], [float(i) for i in range(10, 20)])
        across = c.get("/api/series/temperature/data", params={"start": ms(2990), "end": ms(3009)}).json()
        assert across["t"] == [ms(i) for i in range(2990, 3010)]
        everything = {"start": ms(0), "end": ms(3599)}
        assert c.get("/api/series/temperature/data", params=everything).json()["count"] == 3600
        assert c.get("/api/series/temperature/stats", params=everything).json()["count"] == 3600

        # A minute of new rows pushes a minute of old ones out of memory.
        run(db.insert("temperature", [(at(i), float(i)) for i in range(3600, 3660)]))
        wait_until(lambda: s.newest == us(3659))
        assert (s.n, s.rows_before, s.covered_from) == (601, 3059, us(3059))
        assert listed()["count"] == 3660
        dropped = c.get("/api/series/temperature/data", params={"start": ms(3000), "end": ms(3058)}).json()
        assert dropped["v"] == [float(i) for i in range(3000, 3059)]


def test_a_table_dropped_while_watched_goes_missing_and_is_loaded_again(db: TestDb) -> None:
    """Guards a table dropped under a running app: the series goes `missing`,
    keeps its stored rows, and loads afresh once the table is back."""
    spec = db.spec("pressure")
    run(db.insert("pressure", [(at(i), float(i)) for i in range(100)]))
    with app_store(db.settings()) as (c, store):
        s = store["pressure"]
        run(db.drop_table("pressure"))
        wait_until(lambda: s.state == "missing")
        assert (s.state, s.error) == ("missing", f'relation "{db.schema}.{spec.table}" does not exist')
        listed = next(x for x in c.get("/api/series").json() if x["key"] == "pressure")
        assert (listed["state"], listed["count"]) == ("missing", 100)
        assert s.t.tolist() == [us(i) for i in range(100)]
        window: dict[str, str | int] = {"start": ms(0), "end": ms(99), "series": "pressure", "layout": "long"}
        assert c.get("/api/export.csv", params=window).text.count("\r\n") == 1 + 100
        # The other series still work.
        run(db.insert("ph", [(at(5), 7.0)]))
        wait_until(lambda: store["ph"].n == 1)

        # Back, with different rows, in one transaction.
        run(
            db.execute(
                f"CREATE TABLE {spec.qualified_name} (time timestamp without time zone, value double precision); "
                f"INSERT INTO {spec.qualified_name} SELECT '2026-03-01 07:00'::timestamp + i * interval '1 second', i "
                "FROM generate_series(0, 49) i"
            )
        )
        wait_until(lambda: s.state == "ok", timeout=15)
        assert (s.error, s.loaded, s.count) == (None, True, 50)
        assert s.t.tolist() == [us(3600 + i) for i in range(50)]
        body = c.get("/api/series/pressure/data", params={"start": ms(3600), "end": ms(3649)}).json()
        assert body["v"] == [float(i) for i in range(50)]


def test_a_dropped_table_s_stored_rows_are_still_served_by_data_and_stats(db: TestDb) -> None:
    """Regression: the store kept a dropped table's rows (the listing counted them,
    the CSV export served them), but /data and /stats answered nothing, because
    SeriesData.unload() cleared `loaded` and covers() required it. Rows still
    held now answer for the range they cover."""
    run(db.insert("pressure", [(at(i), float(i)) for i in range(100)]))
    with app_store(db.settings()) as (c, store):
        run(db.drop_table("pressure"))
        wait_until(lambda: store["pressure"].state == "missing")
        window = {"start": ms(0), "end": ms(99)}
        assert c.get("/api/series/pressure/data", params=window).json()["count"] == 100
        assert c.get("/api/series/pressure/stats", params=window).json()["count"] == 100


def test_a_table_without_select_privilege_is_an_error_while_others_flow(db: TestDb) -> None:
    """Guards the privilege-error path: a table the read-only role may no longer
    read shows `error` with PostgreSQL's message; the database still counts as
    up, the series keeps its stored rows, and the other series keep flowing."""
    spec = db.spec("temperature")
    run(db.insert("temperature", [(at(i), 37.0) for i in range(100)]))
    run(db.insert("ph", [(at(i), 7.0) for i in range(100)]))
    with app_store(db.settings()) as (c, store):
        run(db.execute(f"REVOKE SELECT ON {spec.qualified_name} FROM {READER_ROLE}"))
        run(db.insert("temperature", [(at(100), 38.0)]))
        wait_until(lambda: store["temperature"].state == "error")
        message = f"permission denied for table {spec.table}"
        assert store["temperature"].error == message
        listed = next(x for x in c.get("/api/series").json() if x["key"] == "temperature")
        assert (listed["state"], listed["error"], listed["count"]) == ("error", message, 100)
        ready = c.get("/readyz")
        assert ready.status_code == 200
        states = {k: v["state"] for k, v in ready.json()["series"].items()}
        assert states == {"temperature": "error", "ph": "ok", "do": "empty", "pressure": "empty"}
        run(db.insert("ph", [(at(100), 7.2)]))
        run(db.insert("do", [(at(100), 40.0)]))
        wait_until(lambda: store["ph"].newest == us(100) and store["do"].n == 1)
        assert store["temperature"].n == 100  # its new row cannot be read
        body = c.get("/api/series/temperature/data", params={"start": ms(0), "end": ms(99)}).json()
        assert len(body["t"]) == 100
