"""CSV export: exact raw rows of the window, wide or long, streamed."""

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
