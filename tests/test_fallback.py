"""Ranges older than the in-memory store are read from PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from starlette.testclient import TestClient

from realtime.app import create_app
from tests.live import wait_until
from tests.pg import TestDb, run

T0 = datetime(2025, 9, 1, 0, 0, 0)
N = 5000


@pytest.fixture
def client(db: TestDb) -> Iterator[TestClient]:
    rows: list[tuple[datetime, float | None]] = [(T0 + timedelta(seconds=i), float(i)) for i in range(N)]
    rows[100] = (rows[100][0], None)
    run(db.insert("pressure", rows))
    # A budget far below the table: most of it stays in PostgreSQL.
    app = create_app(db.settings(store_max_points=1000))
    with TestClient(app) as c:
        wait_until(lambda: all(s.loaded for s in app.state.ctx.store.series.values()))
        yield c


def test_store_holds_the_newest_rows_only(client: TestClient) -> None:
    store = client.app.state.ctx.store["pressure"]  # type: ignore[attr-defined]
    assert store.n <= 1000
    assert store.covered_from is not None
    info = next(s for s in client.get("/api/series").json() if s["key"] == "pressure")
    assert info["count"] == N
    assert info["first"] == "2025-09-01T00:00:00.000Z"


def test_history_before_the_store_comes_from_sql(client: TestClient) -> None:
    params: dict[str, str | int] = {"start": "2025-09-01T00:00:00Z", "end": "2025-09-01T02:00:00Z", "points": 100}
    body = client.get("/api/series/pressure/data", params=params).json()
    assert body["count"] == N
    assert body["downsampled"] is True
    assert len(body["t"]) <= 400
    assert body["v"][0] == 0.0
    assert max(v for v in body["v"] if v is not None) == N - 1
    assert None in body["v"]  # the NULL row's column shows a break
    raw = client.get(
        "/api/series/pressure/data", params={"start": "2025-09-01T00:01:00Z", "end": "2025-09-01T00:01:09Z"}
    )
    assert raw.json()["v"] == [float(60 + i) for i in range(10)]
    stats = client.get("/api/series/pressure/stats", params=params).json()
    assert stats["count"] == N - 1
    assert stats["max"] == N - 1


def test_csv_spanning_sql_and_store_has_every_row(client: TestClient) -> None:
    params = {"start": "2025-09-01T00:00:00Z", "end": "2025-09-02T00:00:00Z", "series": "pressure", "layout": "long"}
    out = list(csv.reader(io.StringIO(client.get("/api/export.csv", params=params).text)))
    assert len(out) == 1 + N
    assert out[101] == ["pressure", "2025-09-01T00:01:40.000Z", ""]
    assert out[-1] == ["pressure", "2025-09-01T01:23:19.000Z", f"{float(N - 1)!r}"]
