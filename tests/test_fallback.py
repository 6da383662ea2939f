"""Ranges older than the in-memory store are read from PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from starlette.testclient import TestClient

from realtime.app import create_app
from tests.support.pg import TestDb, run
from tests.support.server import wait_until

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


def test_wide_csv_from_sql_keeps_an_instant_together_across_chunks(db: TestDb) -> None:
    """Regression: database cursor chunks could end in the middle of an instant's
    rows. With two rows per instant in two series, the split instant came out as
    three lines with blanks instead of two full ones. Chunks now hold back
    their last instant until the next fetch."""
    t0 = datetime(2025, 9, 1)
    for key, base in (("temperature", 0.0), ("ph", 7.0)):
        rows = [(t0 + timedelta(seconds=i), base + i + k / 10) for i in range(2000) for k in range(2)]
        run(db.insert(key, rows))
    # One lone pH row shifts pH's chunk boundaries against temperature's.
    run(db.insert("ph", [(t0 + timedelta(milliseconds=500), 99.0)]))
    app = create_app(db.settings(store_max_points=1000))
    app.state.ctx.history.chunk_rows = 7  # odd: every chunk would split a pair
    with TestClient(app) as c:
        wait_until(lambda: all(s.loaded for s in app.state.ctx.store.series.values()))
        params = {"start": "2025-09-01T00:00:00Z", "end": "2025-09-01T00:10:00Z", "series": "temperature,ph"}
        out = list(csv.reader(io.StringIO(c.get("/api/export.csv", params=params).text)))
    body = out[1:]
    assert body[2] == ["2025-09-01T00:00:00.500Z", "", "99.0"]
    del body[2]
    assert len(body) == 2 * 601
    assert all(cell != "" for row in body for cell in row)
    # Rows sharing an instant have no order in the table; their values do.
    at3 = [row for row in body if row[0] == "2025-09-01T00:00:03.000Z"]
    assert sorted(r[1] for r in at3) == ["3.0", "3.1"]
    assert sorted(r[2] for r in at3) == ["10.0", "10.1"]
