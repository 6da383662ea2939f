"""/data's outages come from the store's gap index; they must be the ones a scan of
the window's rows finds, whichever way the window is read (store or SQL) and
whatever the threshold (derived, or configured below the index's floor)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from starlette.testclient import TestClient

from realtime.app import create_app
from tests.support.pg import TestDb, run
from tests.support.server import wait_until

BASE = datetime(2025, 3, 1, 12, 0, 0)
ROWS = 4000
STORE_ROWS = 1000  # the rest is read from SQL


def ms(dt: datetime) -> int:
    return round((dt - datetime(1970, 1, 1)).total_seconds() * 1000)


OUTAGES = {1000: 300.0, 3600: 200.0, 3800: 500.0}  # after row: seconds of silence


@pytest.fixture
def times(db: TestDb) -> list[int]:
    """Rows a second apart or less, some sharing an instant, with silences of 12-20 s now
    and then (the series' normal long intervals) and three real outages."""
    rnd = random.Random(8)
    t, rows = BASE, []
    for i in range(ROWS):
        rows.append((t, rnd.random()))
        r = rnd.random()
        step = 0.0 if r < 0.03 else rnd.uniform(12, 20) if r < 0.035 else rnd.uniform(0.2, 1.0)
        t += timedelta(milliseconds=round(OUTAGES.get(i, step) * 1000))
    run(db.insert("temperature", rows))
    return [ms(r[0]) for r in rows]


@pytest.fixture(params=[None, 2.0, 30.0], ids=["derived", "below-floor", "configured"])
def client(request: pytest.FixtureRequest, db: TestDb, times: list[int]) -> Iterator[TestClient]:
    app = create_app(db.settings(gap_after=request.param, store_max_points=STORE_ROWS))
    with TestClient(app) as c:
        store = app.state.ctx.store
        wait_until(lambda: store["temperature"].loaded)
        yield c


def scanned(times: list[int], start: int, end: int, gap_ms: float) -> list[list[int]]:
    inside = [t for t in times if start <= t <= end]
    before = [t for t in times if t < start]
    if before:
        inside = [before[-1], *inside]
    return [[a, b] for a, b in itertools.pairwise(inside) if b - a > gap_ms]


def test_gaps_are_those_a_scan_finds(client: TestClient, times: list[int]) -> None:
    first, last = times[0], times[-1]
    stored_from = times[-STORE_ROWS // 2]  # well inside what the store holds
    for start, end in [(first, last), (stored_from, last), (stored_from + 5_000, last - 60_000)]:
        body = client.get("/api/series/temperature/data", params={"start": start, "end": end, "points": 200}).json()
        expected = scanned(times, start, end, body["gap_ms"])
        assert expected, "the window should hold outages"
        assert body["gaps"] == expected, f"window {start}..{end}"
