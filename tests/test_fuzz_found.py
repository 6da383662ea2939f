"""Regressions: the faults the fuzz tests (#9) found, each pinned by the input that found it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
from starlette.testclient import TestClient

from realtime.app import create_app
from realtime.errors import ApiError
from realtime.params import parse_time, parse_window
from realtime.times import MAX_US, MIN_US, file_stamp, format_iso, us_from_dt
from tests.support.fuzzing import send_invalid_utf8, server_errors
from tests.support.pg import TestDb
from tests.support.sample import app_settings, fill
from tests.support.server import LiveServer, serve, wait_until
from tests.support.wsclient import Viewer


@pytest.fixture
def client(db: TestDb) -> Iterator[TestClient]:
    fill(db)
    app = create_app(app_settings(db))
    with TestClient(app, raise_server_exceptions=False) as c:
        wait_until(lambda: all(s.loaded for s in app.state.ctx.store.series.values()))
        yield c


@pytest.fixture
def server(db: TestDb) -> Iterator[LiveServer]:
    fill(db)
    with serve(app_settings(db)) as live:
        yield live


@pytest.mark.parametrize(
    "raw", ["0001-01-01T00:00:00+14:00", "0001-01-01T13:59:59.999999+14:00", "9999-12-31T23:59:59.999999-14:00"]
)
def test_an_offset_cannot_carry_a_time_past_datetimes_range(raw: str) -> None:
    """Cause: an ISO time was checked against datetime's range only if converting it raised
    OverflowError, which subtracting aware datetimes never does; with its offset applied,
    0001-01-01T00:00:00+14:00 is in year 0. The window came back inverted (start after end),
    and where it reached PostgreSQL or an export's file name, the conversion raised: 500.
    Fix: parse_time checks the instant in µs against MIN_US..MAX_US for ISO times too."""
    with pytest.raises(ApiError) as refused:
        parse_time(raw, "start")
    assert (refused.value.status, refused.value.parameter) == (400, "start")
    assert "years 1 to 9999" in refused.value.message
    # The edges themselves, with the offsets that keep them inside, still parse.
    assert parse_time("0001-01-01T00:00:00-14:00", "end").us == MIN_US + 14 * 3_600_000_000
    assert parse_time("9999-12-31T23:59:59.999999+14:00", "end").us == MAX_US - 14 * 3_600_000_000
    assert parse_window("0001-01-01", "0001-01-01T00:00:00-14:00", None) == (MIN_US, MIN_US + 14 * 3_600_000_000)


def test_every_route_refuses_a_time_past_datetimes_range(client: TestClient) -> None:
    """The same fault through the routes: an export answered 500 (ValueError: year 0 is out of
    range), /data and /stats an inverted window."""
    for path in ("/api/series/temperature/data", "/api/series/temperature/stats", "/api/export.csv"):
        for query in (
            "end=0001-01-01T00:00:00%2B14:00",
            "start=9999-12-31T23:59:59-14:00",
            "start=0001-01-01T01:00+14:00",
        ):
            reply = client.get(f"{path}?{query.replace('+', '%2B')}")
            assert reply.status_code == 400, (path, query, reply.text)
            assert reply.json()["parameter"] == query.split("=")[0]


def test_years_below_1000_are_padded_in_iso_times_and_file_names() -> None:
    """Cause: format_iso and file_stamp wrote the year with strftime's %Y, which glibc does not
    pad: a window in year 401 was exported as bioreactor_4010415T225325Z_... (read: year 4010).
    Fix: isoformat's year, and an explicitly padded one in the file name."""
    us = us_from_dt(datetime(401, 4, 15, 22, 53, 25))
    assert format_iso(us) == "0401-04-15T22:53:25.000Z"
    assert format_iso(us + 7) == "0401-04-15T22:53:25.000007Z"
    assert file_stamp(us) == "04010415T225325Z"
    assert (format_iso(MIN_US), file_stamp(MIN_US)) == ("0001-01-01T00:00:00.000Z", "00010101T000000Z")
    assert (format_iso(MAX_US), file_stamp(MAX_US)) == ("9999-12-31T23:59:59.999999Z", "99991231T235959Z")


def test_export_names_a_file_in_year_401_with_eight_digit_dates(client: TestClient) -> None:
    reply = client.get("/api/export.csv?start=0401-04-15T22:53:25Z")
    assert reply.status_code == 200
    disposition = reply.headers["content-disposition"]
    assert disposition == 'attachment; filename="bioreactor_04010415T225325Z_04010415T235325Z.csv"'


@pytest.mark.parametrize("since", ["1e308", "-1e308", "1e300", "253402300800000"])
def test_a_since_past_datetimes_range_gets_an_error_message_not_a_crash(server: LiveServer, since: str) -> None:
    """Cause: subscribe took any finite number for since; us_from_wire(1e308) multiplied it to
    infinity, round() raised OverflowError, which the reader does not catch: the viewer's handler
    died, its socket closed with 1011, and a traceback was logged.
    Fix: subscribe refuses a since outside the years 1 to 9999 with an error message."""
    v = Viewer(server.ws_url)
    with server_errors() as logged:
        v.conn.send(f'{{"type":"subscribe","since":{{"temperature":{since}}}}}')
        v.wait_for(lambda v: bool(v.of_type("error")))
        assert "since.temperature" in v.of_type("error")[0]["error"]
        # Still open and reading: a good subscribe gets its replay.
        v.subscribe(since={"ph": 0})
        v.wait_for(lambda v: any(m["series"] == "ph" and m["replay"] for m in v.of_type("append")))
    assert not v.closed()
    assert not logged, [r.getMessage() for r in logged]
    v.close()


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/series/" + "k" * 3000 + "/data", "key"),
        ("/api/series/" + "k" * 3000 + "/stats", "key"),
        ("/api/export.csv?series=" + "k" * 5000, "series"),
        ("/api/export.csv?layout=" + "w" * 5000, "layout"),
    ],
)
def test_no_error_message_echoes_a_value_whole(client: TestClient, path: str, parameter: str) -> None:
    """Cause: an unknown series key (path or series list) and an unknown layout were echoed whole,
    so a request of 8 KiB made an 8 KiB message (and log line). Fix: lookup quotes 40 characters
    of the key, as the parameters do (params.shown), and every ApiError message is cut at 200
    characters where it becomes JSON (views/handlers)."""
    reply = client.get(path)
    assert 400 <= reply.status_code < 500
    body = reply.json()
    assert body["parameter"] == parameter
    assert len(body["error"]) <= 200
    assert len(reply.content) < 400


def test_invalid_utf8_is_closed_with_1007_and_one_warning(server: LiveServer) -> None:
    """Cause: uvicorn decodes a text message itself and, when it is not UTF-8, logs the
    UnicodeDecodeError's traceback at ERROR before closing with 1007: any client could fill the
    log with tracebacks. Fix: the app's WebSocket protocol (wsprotocol) checks first, closes
    with 1007 the same way, and logs one warning line."""
    with server_errors(logging.WARNING) as logged:
        assert send_invalid_utf8(server.port) == 1007
    assert [(r.levelname, r.exc_info) for r in logged] == [("WARNING", None)]
    assert "not UTF-8" in logged[0].getMessage()
    v = Viewer(server.ws_url)
    v.wait_for(lambda v: bool(v.of_type("hello")))
    v.close()
