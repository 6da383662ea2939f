"""Rows a historian forwards late, however late, reach the store, the API and the CSV.

Regression: rows backfilled further back than RECONCILE_HORIZON (1 h) never
appeared until a restart, and the "exact" CSV then differed from SELECT. A
sweep over everything in memory now finds them within SWEEP_INTERVAL.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx2 as httpx
import pytest

from tests.support.pg import TestDb, run
from tests.support.server import LiveServer, serve, wait_until

NOW = datetime(2026, 3, 10, 12, 0, 0)
EPOCH = datetime(1970, 1, 1)
SWEEP = 2.0


def ms(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(milliseconds=1)


@pytest.fixture
def live(db: TestDb) -> Iterator[LiveServer]:
    # Two days of a 1-minute signal, with a one-hour hole 3 h back and another a day back.
    rows = [(NOW - timedelta(minutes=m), 40.0) for m in range(2 * 24 * 60)]
    holes = {(3 * 60) - k for k in range(60)} | {(24 * 60) - k for k in range(60)}
    run(db.insert("do", [r for m, r in enumerate(rows) if m not in holes]))
    with serve(db.settings(poll_interval=0.1, reconcile_interval=0.5, sweep_interval=SWEEP)) as server:
        yield server


@pytest.mark.parametrize("late", [timedelta(hours=3), timedelta(days=1)])
def test_late_rows_appear_within_the_sweep_interval(
    live: LiveServer, db: TestDb, late: timedelta, caplog: pytest.LogCaptureFixture
) -> None:
    base = NOW - late
    forwarded = [(base + timedelta(minutes=k, seconds=30), 41.0 + k) for k in range(3)]
    n = live.ctx.store["do"].n
    caplog.set_level(logging.INFO, logger="realtime.reconcile")
    written = time.monotonic()
    run(db.insert("do", forwarded))
    wait_until(lambda: live.ctx.store["do"].n == n + 3, timeout=3 * SWEEP + 5)
    assert time.monotonic() - written < 2 * SWEEP + 3  # the bound the README states, with a round's slack
    params = {"start": ms(base), "end": ms(base + timedelta(minutes=3))}
    data = httpx.get(f"{live.url}/api/series/do/data", params=params).json()
    assert data["t"] == [ms(t) for t, _ in forwarded]
    text = httpx.get(f"{live.url}/api/export.csv", params={**params, "series": "do", "layout": "long"}).text
    assert [row[2] for row in csv.reader(io.StringIO(text))][1:] == ["41.0", "42.0", "43.0"]
    # Each late merge is logged with what it filled.
    assert any("found 3 late rows" in r.getMessage() for r in caplog.records)


def test_a_late_row_within_the_horizon_appears_within_seconds(live: LiveServer, db: TestDb) -> None:
    n = live.ctx.store["do"].n
    run(db.insert("do", [(NOW - timedelta(minutes=10, seconds=15), 39.0)]))
    wait_until(lambda: live.ctx.store["do"].n == n + 1, timeout=5)
