"""History: a window from the store, or from PostgreSQL before the store's range;
streamed chunks and slabs that never split an instant."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import numpy as np
import pytest

from realtime.db import create_pool
from realtime.errors import ApiError
from realtime.health import DbHealth
from realtime.history import History
from realtime.rows import Rows
from realtime.store import Store
from realtime.times import us_from_dt
from tests.support.pg import TestDb

T0 = datetime(2026, 5, 1, 0, 0, 0)
KEYS = ["temperature", "ph", "do", "pressure"]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def us(seconds: float) -> int:
    return us_from_dt(at(seconds))


def columns(rows: Sequence[tuple[datetime, float]]) -> Rows:
    t = np.array([us_from_dt(r[0]) for r in rows], dtype=np.int64)
    v = np.array([r[1] for r in rows], dtype=np.float64)
    return t, v


def tail(rows: Rows, start: int) -> Rows:
    t, v = rows
    keep = t >= start
    return t[keep], v[keep]


def pairs(chunks: Sequence[Rows]) -> list[tuple[int, float]]:
    """Every (t, v) of a run of chunks; values sorted within an instant (a table keeps no order there)."""
    out = [p for t, v in chunks for p in zip(t.tolist(), v.tolist(), strict=True)]
    return sorted(out)


@asynccontextmanager
async def history(db: TestDb, store: Store, *, chunk_rows: int = 50_000) -> AsyncIterator[History]:
    h = History(db.settings(), store, DbHealth(on_change=lambda _: None), chunk_rows=chunk_rows)
    h.pool = await create_pool(db.reader, max_size=2)
    try:
        yield h
    finally:
        await h.pool.close()


async def test_a_window_in_the_store_is_sliced_from_it_and_an_older_one_read_from_sql(db: TestDb) -> None:
    rows = [(at(i), float(i)) for i in range(3000)]
    await db.insert("temperature", rows)
    store = Store(KEYS)
    series = store["temperature"]
    series.replace(tail(columns(rows), us(2000)), covered_from=us(2000), rows_before=2000, first=us(0))
    # A row only the table has: it tells the two sources apart.
    await db.insert("temperature", [(at(2500.5), -1.0)])
    spec = db.spec("temperature")
    async with history(db, store) as h:
        t, v = await h.window(spec, us(2000), us(2501))
        assert t.tolist() == [us(i) for i in range(2000, 2502)]
        assert np.shares_memory(t, series.t)  # a view, no copy
        t, v = await h.window(spec, us(1999), us(2501))
        assert t.tolist() == [us(i) for i in range(1999, 2501)] + [us(2500.5), us(2501)]
        assert v.tolist() == [float(i) for i in range(1999, 2501)] + [-1.0, 2501.0]
        assert not np.shares_memory(t, series.t)


async def test_a_series_not_yet_loaded_shows_no_rows(db: TestDb) -> None:
    await db.insert("ph", [(at(i), 7.0) for i in range(10)])
    store = Store(KEYS)
    async with history(db, store) as h:
        t, v = await h.window(db.spec("ph"), us(0), us(9))
        assert (t.size, v.size) == (0, 0)
        assert [c async for c in h.chunks(db.spec("ph"), us(0), us(9))] == []


async def test_older_windows_are_503_without_a_database(db: TestDb) -> None:
    store = Store(KEYS)
    store["do"].replace(columns([(at(100), 40.0)]), covered_from=us(50), rows_before=1)
    health = DbHealth(on_change=lambda _: None)
    h = History(db.settings(), store, health)  # never opened: no pool
    spec = db.spec("do")
    assert (await h.window(spec, us(60), us(200)))[0].tolist() == [us(100)]
    with pytest.raises(ApiError) as no_pool:
        await h.window(spec, us(0), us(200))
    assert (no_pool.value.status, no_pool.value.message) == (
        503,
        "the database is unavailable; this range is not in memory",
    )
    # Refused up front only while the database is known to be down, and only before the store's range.
    h.check_available(spec, us(0))
    health.failed(OSError("connection refused"), "unreachable")
    h.check_available(spec, us(50))
    with pytest.raises(ApiError) as down:
        h.check_available(spec, us(49))
    assert (down.value.status, down.value.message) == (
        503,
        "the database is unavailable; do before the stored range is not in memory",
    )


def triples(n: int) -> list[tuple[datetime, float]]:
    """Three rows at each of n instants, one second apart, then one lone row."""
    return [(at(i), i + k / 10) for i in range(n) for k in range(3)] + [(at(n + 0.5), -1.0)]


@pytest.mark.parametrize("source", ["store", "sql"])
async def test_chunks_end_on_instant_boundaries(db: TestDb, source: str) -> None:
    """Guards the CSV stream: a chunk that ended inside an instant would let the
    wide layout print that instant on two half-empty lines."""
    rows = triples(100)
    await db.insert("pressure", rows)
    store = Store(KEYS)
    if source == "store":
        store["pressure"].replace(columns(rows), covered_from=None)
    else:
        store["pressure"].replace(tail(columns(rows), us(1000)), covered_from=us(1000), rows_before=len(rows))
    async with history(db, store, chunk_rows=7) as h:
        chunks = [c async for c in h.chunks(db.spec("pressure"), us(10), us(100.5))]
    assert len(chunks) > 10
    assert all(t.size > 0 for t, _ in chunks)
    for (a, _), (b, _) in itertools.pairwise(chunks):
        assert a[-1] < b[0]
    assert pairs(chunks) == sorted(zip(*(x.tolist() for x in columns(rows[30:])), strict=True))


async def test_slabs_cut_every_series_at_the_same_instant(db: TestDb) -> None:
    """Guards the wide CSV: each slab holds every series' rows up to one instant
    and none after it, whether a series is read from SQL or from the store."""
    dense = triples(200)
    sparse = [(at(i), 7.0 + k) for i in range(0, 200, 7) for k in range(2)]
    await db.insert("temperature", dense)
    await db.insert("ph", sparse)
    store = Store(KEYS)
    # Temperature older than 150 s is only in SQL; pH is all in memory.
    store["temperature"].replace(tail(columns(dense), us(150)), covered_from=us(150), rows_before=450)
    store["ph"].replace(columns(sparse), covered_from=None)
    specs = [db.spec("temperature"), db.spec("ph")]
    async with history(db, store, chunk_rows=5) as h:
        slabs = [s async for s in h.slabs(specs, us(0), us(300))]
    assert len(slabs) > 10
    assert all(len(slab) == 2 for slab in slabs)
    for a, b in itertools.pairwise(slabs):
        last = max(int(t[-1]) for t, _ in a if t.size)
        first = min(int(t[0]) for t, _ in b if t.size)
        assert last < first
    assert pairs([slab[0] for slab in slabs]) == pairs([columns(dense)])
    assert pairs([slab[1] for slab in slabs]) == pairs([columns(sparse)])


async def test_sql_pages_hold_no_connection_and_keep_an_instant_whole(db: TestDb) -> None:
    """Guards the keyset pages of a CSV export: twelve rows at one instant outgrow a page of five
    and still come whole, no connection is held while a chunk is out, and the store takes over."""
    crowded = [(at(5), float(k)) for k in range(12)]
    rest = [(at(i), float(i)) for i in range(6, 40)]
    await db.insert("pressure", crowded + rest)
    store = Store(KEYS)
    store["pressure"].replace(tail(columns(rest), us(30)), covered_from=us(30), rows_before=12 + 24)
    await db.insert("pressure", [(at(35.5), -1.0)])  # only the table has it: it tells the sources apart
    chunks: list[Rows] = []
    async with history(db, store, chunk_rows=5) as h:
        assert h.pool is not None
        async for chunk in h.chunks(db.spec("pressure"), us(0), us(100)):
            assert h.pool.get_idle_size() == h.pool.get_size()  # every connection is back in the pool
            chunks.append(chunk)
    assert chunks[0][0].tolist() == [us(5)] * 12
    for (a, _), (b, _) in itertools.pairwise(chunks):
        assert a[-1] < b[0]
    assert pairs(chunks) == pairs([columns(crowded + rest)])
    # From 30 s on the rows came from the store: SQL read 36 rows, a page of 5 at a time (and the crowd whole).
    assert h.pages_read <= 2 + 24 // 4 + 2
