"""No input makes the API answer 5xx, and every 4xx says what is wrong (#9).

Three ways in, all against a real server on a real PostgreSQL holding a
little data (older windows are read from the table, so routes do real work):

- the inputs an earlier hostile test found, every one on every parameter of
  every route;
- Hypothesis strategies per query parameter: edge and random values;
- Schemathesis, from the OpenAPI document the app serves (``test_fuzz_openapi``).

Every answer must pass :func:`tests.support.fuzzing.assert_sound`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx2 as httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.config import PgSettings
from tests.support.fuzzing import FUZZ, assert_sound, server_errors
from tests.support.pg import PgServer, create_schema, run
from tests.support.sample import app_settings, fill
from tests.support.server import LiveServer, serve

KEYS = ["temperature", "ph", "do", "pressure"]
HUGE = "9" * 60_000  # over the 8 KiB request target: refused whole, never echoed

# The edges of datetime's range, with the widest offsets, and epoch ms at and past them.
EDGE_TIMES = [
    "0001-01-01",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00-14:00",
    "9999-12-31T23:59:59.999999+14:00",
    "9999-12-31T23:59:59.999999-14:00",
    "-62135596800000",
    "253402300799999",
]
# Found by an earlier hostile test, or at the edges of what a parser meets.
HOSTILE_TIMES = [
    *EDGE_TIMES,
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59.999999",
    "-62135596800001",
    "253402300800000",
    "253402300799999.999",
    "1736496000",  # epoch seconds (10 digits)
    "\uff11\uff12",  # full-width digits (start=１２)  # noqa: RUF003
    "١٢٣٤",  # Arabic-Indic digits
    "۱۲۳۴",  # extended Arabic-Indic digits
    "nan",
    "inf",
    "-inf",
    "1e308",
    "-0",
    "0x10",
    "",
    " ",
    "2026-01-10T08:00:00Z",
    "2026-01-10 08:00",
    "2026-W02-6",
    "2026-02-30",
    "20260110T080000Z",
    "2026-01-10T08:00:00+24:00",
    "2026-01-10T08:00:00\x00",
    HUGE,
]
HOSTILE_POINTS = ["1", "0", "-1", "2", "+5", " 7 ", "1e3", "2.0", "\uff12", "99999999999999", "9" * 5000, "", HUGE]
HOSTILE_SERIES = [
    "temperature,temperature",
    "temperature,,ph",
    ",,",
    "",
    " ",
    "nope",
    "temperature,nope",
    "x" * 5000,
    HUGE,
]
HOSTILE_LAYOUTS = ["", "wide", "long", "WIDE", "junk", "wide\x00", "y" * 5000, HUGE]
HOSTILE_KEYS = ["nope", "TEMPERATURE", "temperature ", "..", "%", "/", "\x00", "😀", "x" * 3000]

ROUTE_PARAMS = {
    "/api/series/{key}/data": ("start", "end", "points"),
    "/api/series/{key}/stats": ("start", "end"),
    "/api/data": ("start", "end", "points", "series"),
    "/api/export.csv": ("start", "end", "series", "layout"),
}
HOSTILE = {"start": HOSTILE_TIMES, "end": HOSTILE_TIMES, "points": HOSTILE_POINTS}
HOSTILE |= {"series": HOSTILE_SERIES, "layout": HOSTILE_LAYOUTS}


@pytest.fixture(scope="module")
def server(pg_admin: PgSettings, pg_server: PgServer) -> Iterator[LiveServer]:
    db = run(create_schema(pg_admin, pg_server))
    fill(db)
    with serve(app_settings(db)) as live:
        yield live


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def ask(client: httpx.Client, route: str, params: dict[str, str], key: str = "temperature") -> None:
    """One request, judged by assert_sound (a CSV is read whole: an export may fail mid-stream)."""
    path = route.replace("{key}", quote(key, safe=""))
    with server_errors() as errors:
        reply = client.get(path, params=params)
    content_type = reply.headers.get("content-type", "")
    if reply.request.url.path == "/api/data":
        # "/api/series/../data": the client resolves the dot segments to another route.
        assert_sound("/api/data", reply.status_code, content_type, reply.content, set(params))
    elif "{key}" in route and (key in ("", ".", "..") or "/" in key):
        # Not one path segment: no route matches, and the 404 names no parameter.
        assert_sound("/no/route", reply.status_code, content_type, reply.content, ())
        assert reply.status_code == 404
    else:
        given = {*params, "key"} if "{key}" in route else set(params)
        assert_sound(route, reply.status_code, content_type, reply.content, given)
    assert not errors, [r.getMessage() for r in errors]
    if len(reply.content) < 2000:
        assert HUGE[:100] not in reply.text


@pytest.mark.parametrize("route", list(ROUTE_PARAMS))
def test_hostile_inputs_on_every_parameter(client: httpx.Client, route: str) -> None:
    for name in ROUTE_PARAMS[route]:
        for value in HOSTILE[name]:
            ask(client, route, {name: value})
    # Both bounds at once: inverted, equal, at the edges with offsets.
    for start in EDGE_TIMES:
        for end in EDGE_TIMES:
            ask(client, route, {"start": start, "end": end})


@pytest.mark.parametrize("route", ["/api/series/{key}/data", "/api/series/{key}/stats"])
def test_hostile_series_keys(client: httpx.Client, route: str) -> None:
    for key in HOSTILE_KEYS:
        ask(client, route, {}, key=key)


@st.composite
def iso_times(draw: st.DrawFn) -> str:
    """ISO 8601 over datetime's whole range, with any offset, separator and precision."""
    when = draw(st.datetimes(min_value=datetime.min, max_value=datetime.max))
    offset = draw(st.none() | st.timedeltas(timedelta(hours=-23, minutes=-59), timedelta(hours=23, minutes=59)))
    if offset is not None:
        when = when.replace(tzinfo=timezone(offset))
    units = ["auto", "hours", "minutes", "seconds", "milliseconds", "microseconds"]
    return when.isoformat(draw(st.sampled_from("T ")), draw(st.sampled_from(units)))


times = st.one_of(
    st.sampled_from(HOSTILE_TIMES),
    iso_times(),
    st.integers(-62_135_596_800_001, 253_402_300_800_000).map(str),
    st.integers().map(str),
    st.floats().map(repr),
    st.from_regex(r"[+-]?[0-9]{0,20}(\.[0-9]{0,9})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.text(max_size=40),
)
points = st.one_of(st.sampled_from(HOSTILE_POINTS), st.integers(-5, 20_000).map(str), st.text(max_size=12))
series = st.one_of(
    st.lists(st.sampled_from([*KEYS, "", " ", "nope"]), max_size=6).map(",".join),
    st.sampled_from(HOSTILE_SERIES),
    st.text(max_size=30),
)
layouts = st.one_of(st.sampled_from(HOSTILE_LAYOUTS), st.text(max_size=10))
keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(HOSTILE_KEYS), st.text(min_size=1, max_size=30))


def params(**strategies: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional=strategies)


@settings(FUZZ, max_examples=60)
@given(key=keys, query=params(start=times, end=times, points=points))
def test_data_answers_any_query_soundly(client: httpx.Client, key: str, query: dict[str, Any]) -> None:
    ask(client, "/api/series/{key}/data", query, key=key)


@settings(FUZZ, max_examples=60)
@given(key=keys, query=params(start=times, end=times))
def test_stats_answers_any_query_soundly(client: httpx.Client, key: str, query: dict[str, Any]) -> None:
    ask(client, "/api/series/{key}/stats", query, key=key)


@settings(FUZZ, max_examples=60)
@given(query=params(start=times, end=times, points=points, series=series))
def test_batch_data_answers_any_query_soundly(client: httpx.Client, query: dict[str, Any]) -> None:
    ask(client, "/api/data", query)


@settings(FUZZ, max_examples=60)
@given(query=params(start=times, end=times, series=series, layout=layouts))
def test_export_answers_any_query_soundly(client: httpx.Client, query: dict[str, Any]) -> None:
    ask(client, "/api/export.csv", query)
