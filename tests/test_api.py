"""The REST routes against a real PostgreSQL, through the ASGI app."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from starlette.testclient import TestClient

from realtime.app import create_app
from tests.support.pg import TestDb, run
from tests.support.server import wait_until

BASE = datetime(2025, 3, 1, 12, 0, 0)


def ms(dt: datetime) -> int:
    return round((dt - datetime(1970, 1, 1)).total_seconds() * 1000)


@pytest.fixture
def filled(db: TestDb) -> TestDb:
    rows = [(BASE + timedelta(seconds=i), 37.0 + (i % 10) / 10) for i in range(7200)]
    rows[3000] = (rows[3000][0], 99.5)  # a spike that downsampling must keep
    run(db.insert("temperature", rows))
    run(db.insert("ph", [(BASE + timedelta(seconds=2 * i), 7.0) for i in range(10)] + [(BASE, None)]))
    return db


@pytest.fixture
def client(filled: TestDb) -> Iterator[TestClient]:
    app = create_app(filled.settings())
    with TestClient(app) as c:
        store = app.state.ctx.store
        wait_until(lambda: all(s.loaded for s in store.series.values()))
        yield c


def test_series_list_describes_every_table(client: TestClient) -> None:
    body = client.get("/api/series").json()
    by_key = {s["key"]: s for s in body}
    assert list(by_key) == ["temperature", "ph", "do", "pressure"]
    temp = by_key["temperature"]
    assert temp["table"] == "CM_HAM_DO_AI1/Temp_value"
    assert temp["name"] == "Temperature"
    assert temp["unit"] == "°C"
    assert temp["count"] == 7200
    assert temp["first"] == "2025-03-01T12:00:00.000Z"
    assert temp["last"] == "2025-03-01T13:59:59.000Z"
    assert temp["state"] == "ok"
    assert temp["interval_ms"] == 1000
    assert by_key["do"]["state"] == "empty"
    assert by_key["do"]["count"] == 0
    assert by_key["do"]["first"] is None


def test_default_window_is_last_hour_of_data(client: TestClient) -> None:
    body = client.get("/api/series/temperature/data", params={"points": 10000}).json()
    assert body["end"] == ms(BASE + timedelta(seconds=7199))
    assert body["start"] == body["end"] - 3_600_000
    assert body["t"][0] == body["start"]
    assert body["t"][-1] == body["end"]
    assert len(body["t"]) == 3601
    assert not body["downsampled"]


def test_raw_rows_when_they_fit(client: TestClient) -> None:
    start, end = ms(BASE), ms(BASE + timedelta(seconds=99))
    body = client.get("/api/series/temperature/data", params={"start": start, "end": end, "points": 100}).json()
    assert body["downsampled"] is False
    assert body["t"] == [start + 1000 * i for i in range(100)]
    assert body["v"][:3] == [37.0, 37.1, 37.2]


def test_wide_window_is_m4_and_keeps_the_spike(client: TestClient) -> None:
    params: dict[str, str | int] = {"start": "2025-03-01T12:00:00Z", "end": "2025-03-01T14:00:00Z", "points": 50}
    body = client.get("/api/series/temperature/data", params=params).json()
    assert body["downsampled"] is True
    assert body["count"] == 7200
    assert len(body["t"]) <= 4 * 50
    assert max(body["v"]) == 99.5
    assert min(body["v"]) == 37.0
    assert body["t"] == sorted(body["t"])


def test_null_values_come_back_as_null(client: TestClient) -> None:
    body = client.get("/api/series/ph/data", params={"start": ms(BASE), "end": ms(BASE) + 60_000}).json()
    assert None in body["v"]
    assert len(body["t"]) == 11  # duplicate timestamp at BASE kept


def test_stats_are_on_raw_rows(client: TestClient) -> None:
    params = {"start": "2025-03-01T12:00:00", "end": "2025-03-01T14:00:00"}
    body = client.get("/api/series/temperature/stats", params=params).json()
    assert body["count"] == 7200
    assert body["max"] == 99.5
    assert body["min"] == 37.0
    assert body["last"] == pytest.approx(37.9)
    ph = client.get("/api/series/ph/stats", params={"start": ms(BASE), "end": ms(BASE) + 60_000}).json()
    assert ph["count"] == 10
    assert ph["mean"] == 7.0


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"start": "yesterday"}, "start"),
        ({"end": "2025-13-01"}, "end"),
        ({"start": "2025-03-02", "end": "2025-03-01"}, "start"),
        ({"points": "0"}, "points"),
        ({"points": "-3"}, "points"),
        ({"points": "many"}, "points"),
        ({"points": "1.5"}, "points"),
        ({"start": "nan"}, "start"),
        ({"start": "1e300"}, "start"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    for route in ("data", "stats"):
        if route == "stats" and parameter == "points":
            continue
        r = client.get(f"/api/series/temperature/{route}", params=params)
        assert r.status_code == 400, r.text
        assert r.json()["parameter"] == parameter
        assert parameter in r.json()["error"]


def test_points_is_capped_at_max_points(filled: TestDb) -> None:
    """Guards the MAX_POINTS cap: however many points a request asks for, the
    response is M4 over at most max_points columns (at most 4 samples each)."""
    app = create_app(filled.settings(max_points=50, default_points=20))
    with TestClient(app) as c:
        wait_until(lambda: all(s.loaded for s in app.state.ctx.store.series.values()))
        window = {"start": ms(BASE), "end": ms(BASE + timedelta(seconds=7199))}
        huge = c.get("/api/series/temperature/data", params={**window, "points": 10_000_000}).json()
        at_cap = c.get("/api/series/temperature/data", params={**window, "points": 50}).json()
    assert huge["count"] == 7200
    assert huge["downsampled"] is True
    assert 50 < len(huge["t"]) <= 4 * 50
    assert max(huge["v"]) == 99.5  # still M4: the spike survives the cap
    assert (huge["t"], huge["v"]) == (at_cap["t"], at_cap["v"])


def test_unknown_series_is_404(client: TestClient) -> None:
    for path in ("/api/series/nope/data", "/api/series/nope/stats"):
        r = client.get(path)
        assert r.status_code == 404
        assert "nope" in r.json()["error"]


def test_empty_series_returns_empty_window(client: TestClient) -> None:
    body = client.get("/api/series/do/data").json()
    assert body["t"] == []
    assert body["v"] == []
    assert body["state"] == "empty"


def test_health_routes(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["database"] == "up"
