"""The server's real answers and messages against the contract's JSON Schemas (#6).

The schemas (``realtime/schema/``, ``additionalProperties: false`` throughout)
are the one description of the wire; ``frontend/test/contract.test.ts`` holds
``frontend/src/types.ts`` to the same files. Here a real app on a real
PostgreSQL answers every route and sends every kind of message, and each one
must match: a field added, dropped, renamed or retyped on the server fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest
import schemathesis
from jsonschema import Draft202012Validator
from starlette.routing import Mount, Route, WebSocketRoute

from realtime import messages
from realtime.views import signin
from realtime.views.openapi import document, schemas
from tests.support.contract import check, check_frame, check_message, inlined, quick_check
from tests.support.pg import TestDb, run
from tests.support.sample import T0, app_settings, fill, ms
from tests.support.server import LiveServer, serve, wait_until
from tests.support.wsclient import Viewer

KEYS = ["temperature", "ph", "do", "pressure"]


class FrameViewer(Viewer):
    """A viewer that checks every frame, as sent, against the contract before reading it."""

    def pump(self, seconds: float = 0.2, *, closing_ok: bool = False) -> None:
        conn = self.conn
        recv = conn.recv

        def checked(timeout: float | None = None, decode: bool | None = None) -> Any:
            raw = recv(timeout=timeout, decode=decode)
            check_frame(json.loads(raw))
            return raw

        conn.recv = checked  # type: ignore[method-assign]
        try:
            super().pump(seconds, closing_ok=closing_ok)
        finally:
            del conn.recv


@pytest.fixture
def server(db: TestDb) -> Iterator[LiveServer]:
    fill(db)
    with serve(app_settings(db, heartbeat_interval=0.3)) as live:
        yield live


def valid(name: str, answer: Any) -> None:
    """Both validators agree: jsonschema here, and jsonschema-rs, which the fuzz tests use."""
    check(name, answer)
    quick_check(name, answer)


def get(server: LiveServer, path: str, **params: Any) -> httpx.Response:
    # No params at all keeps a query already in the path.
    return httpx.get(server.url + path, params=params or None, timeout=30)


def test_every_schema_is_valid_draft_2020_12_and_closed() -> None:
    def objects(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if "properties" in node:
                yield node
            for child in node.values():
                yield from objects(child)
        elif isinstance(node, list):
            for child in node:
                yield from objects(child)

    assert set(schemas()) >= {"series-list", "series-data", "series-stats", "error", "readyz", "healthz", "boot"}
    for name, schema in schemas().items():
        Draft202012Validator.check_schema(schema)
        Draft202012Validator.check_schema(inlined(name))
        for node in objects(schema):
            # Closed, so drift on either side fails; every field is always sent (but an error's parameter, and the subscribe's).
            assert node.get("additionalProperties") is False, f"{name}: an object schema is open"
            if name not in ("ws-subscribe", "error"):
                assert set(node["required"]) == set(node["properties"]), f"{name}: a field is optional"


def test_every_message_builder_matches_and_drift_fails() -> None:
    """realtime.messages builds every message; a field added, dropped or retyped must fail both validators."""
    db = {"state": "down", "since": 1_767_225_600_000, "error": "connection refused", "kind": "refused"}
    t = np.array([1_767_225_600_000_000, 1_767_225_600_000_250], dtype=np.int64)
    built = [
        messages.hello(demo=True, db={**db, "state": "unknown", "error": None, "kind": None}),
        messages.append("ph", t, np.array([7.0, np.nan]), seq=2, late=True, replay=False),
        messages.status(db),
        messages.resync(["ph", "do"]),
        messages.heartbeat(),
        messages.error("expected {'type': 'subscribe', ...}"),
    ]
    for message in built:
        wire = json.loads(messages.encode(message))  # NaN goes out as null
        check_message(wire)
        check_message(wire, quick=True)
        name = f"ws-{wire['type']}"
        first = next(k for k in wire if k != "type")
        for drifted in ({**wire, "extra": 1}, {k: x for k, x in wire.items() if k != first}, {**wire, first: None}):
            with pytest.raises(AssertionError):
                check(name, drifted)
            with pytest.raises(AssertionError):
                quick_check(name, drifted)


def test_openapi_document_is_valid_and_lists_every_route(server: LiveServer) -> None:
    reply = get(server, "/openapi.json")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/json"
    doc = reply.json()
    schemathesis.openapi.from_dict(doc).validate()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["parameters"]["key"]["schema"]["enum"] == KEYS

    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                yield node["$ref"]
            for child in node.values():
                yield from refs(child)
        elif isinstance(node, list):
            for child in node:
                yield from refs(child)

    for ref in refs(doc):
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]

    routed: set[str] = set()
    for route in server.app.routes:
        if isinstance(route, Route):
            routed.add(route.path)
        elif isinstance(route, Mount):
            routed.add(route.path + "/{path}")
        else:
            assert isinstance(route, WebSocketRoute)
            assert doc["x-websocket"]["path"] == route.path
    assert set(doc["paths"]) == routed
    # With a users file the sign-in routes are routed, and documented.
    with_form = set(document(KEYS, signin=True)["paths"]) - routed
    assert with_form == {r.path for r in signin.routes() if isinstance(r, Route)}


def test_rest_answers_match_their_schemas(server: LiveServer) -> None:
    listed = get(server, "/api/series").json()
    valid("series-list", listed)
    assert [s["key"] for s in listed] == KEYS
    assert get(server, "/healthz").json() == {"status": "ok"}
    ready = get(server, "/readyz")
    assert ready.status_code == 200
    valid("readyz", ready.json())
    page = get(server, "/").text
    boot = re.search(r'<script id="boot" type="application/json">(.*?)</script>', page, re.S)
    assert boot is not None
    valid("boot", json.loads(boot.group(1).replace("<\\/", "</")))

    start, end = ms(T0), ms(T0 + timedelta(hours=2))
    windows: list[tuple[str, dict[str, Any]]] = [
        ("temperature", {}),  # the default window: the last hour
        ("temperature", {"start": start, "end": end, "points": 50}),  # M4, older rows from PostgreSQL
        ("temperature", {"start": start + 10_000, "end": start + 19_000}),  # raw, before from PostgreSQL
        ("ph", {"start": start + 30_000, "end": end}),  # NULLs, a shared timestamp, an outage, before
        ("do", {"start": start, "end": end, "points": 2}),  # µs: fractional ms
        ("pressure", {}),  # empty: no window at all
        ("pressure", {"start": "2026-01-10T08:00:00Z"}),  # empty, with a window
    ]
    seen: set[str] = set()
    for key, params in windows:
        data = get(server, f"/api/series/{key}/data", **params).json()
        valid("series-data", data)
        assert len(data["t"]) == len(data["v"])
        assert data["t"] == sorted(data["t"])
        if data["start"] is not None:
            assert data["start"] <= data["end"]
        seen.add("M4" if data["downsampled"] else "raw")
        seen.update({"gaps"} if data["gaps"] else set(), {"before"} if data["before"] else set())
        seen.update({"no window"} if data["start"] is None else set())
        seen.update({"fractional"} if any(t != int(t) for t in data["t"]) else set())
        valid("series-stats", get(server, f"/api/series/{key}/stats", **params).json())
    # The windows above reach every optional shape of the answer.
    assert seen == {"M4", "raw", "gaps", "before", "no window", "fractional"}
    batch = get(server, "/api/data", start=start, end=end, points=50).json()
    valid("series-data-batch", batch)
    assert list(batch["series"]) == KEYS


@pytest.mark.parametrize(
    ("path", "status", "parameter"),
    [
        ("/api/series/temperature/data?start=yesterday", 400, "start"),
        ("/api/series/temperature/data?end=2026-13-01", 400, "end"),
        ("/api/series/temperature/data?points=1", 400, "points"),
        ("/api/series/temperature/stats?start=1700000000", 400, "start"),
        ("/api/series/nope/data", 404, "key"),
        ("/api/series/nope/stats", 404, "key"),
        ("/api/export.csv?series=temperature,nope", 404, "series"),
        ("/api/export.csv?layout=tall", 400, "layout"),
        ("/api/data?series=temperature,nope", 404, "series"),
        ("/api/data?series=temperature,,ph", 400, "series"),
        ("/api/data?points=1", 400, "points"),
        ("/api/data?start=yesterday", 400, "start"),
        ("/api/data?end=2026-13-01", 400, "end"),
        ("/api/series?pad=" + "x" * 9000, 414, "url"),
        ("/no/such/route", 404, None),
        ("/static/no-such-file.js", 404, None),
    ],
)
def test_error_bodies_match_the_schema(server: LiveServer, path: str, status: int, parameter: str | None) -> None:
    reply = get(server, path)
    assert reply.status_code == status
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    valid("error", body)
    assert body.get("parameter") == parameter


def test_live_messages_match_their_schemas(server: LiveServer, db: TestDb) -> None:
    v = FrameViewer(server.ws_url)
    v.wait_for(lambda v: bool(v.of_type("hello")))
    newest = T0 + timedelta(hours=2)
    # A live append, then a late one (older than the newest row: found by reconciliation).
    run(db.insert("ph", [(newest, 7.5)]))
    v.wait_for(lambda v: any(m["series"] == "ph" and not m["late"] for m in v.of_type("append")))
    run(db.insert("ph", [(newest - timedelta(minutes=5, milliseconds=1), 7.6)]))
    v.wait_for(lambda v: any(m["late"] for m in v.of_type("append")), timeout=15)
    # A replay, a resync (the viewer claims a row count the server does not have) and errors.
    v.subscribe(since={"do": ms(T0) + 500_000.5, "ph": ms(newest)}, seq={"ph": 1})
    v.wait_for(lambda v: bool(v.of_type("resync")))
    v.conn.send("not json")
    v.conn.send(json.dumps({"type": "subscribe", "since": {"nope": 1}}))
    v.wait_for(lambda v: len(v.of_type("error")) == 2)
    v.wait_for(lambda v: bool(v.of_type("heartbeat")))
    kinds = {m["type"] for m in v.messages}
    assert kinds == {"hello", "append", "resync", "error", "heartbeat"}
    replays = [m for m in v.of_type("append") if m["replay"]]
    assert {m["series"] for m in replays} == {"do", "ph"}
    assert any(t != int(t) for m in replays for t in m["t"])  # µs rows: fractional ms
    for m in v.messages:
        check_message(m)
        check_message(m, quick=True)
        if m["type"] == "append":
            assert len(m["t"]) == len(m["v"])
    v.close()


def test_outage_messages_and_answers_match_their_schemas(restartable_server: Any) -> None:
    from tests.support.pg import create_database, create_schema, drop_database

    admin = run(create_database(restartable_server.admin))
    db = run(create_schema(admin, restartable_server))
    fill(db)
    try:
        with serve(app_settings(db, poll_interval=0.2)) as live:
            v = FrameViewer(live.ws_url)
            v.wait_for(lambda v: bool(v.of_type("hello")))
            restartable_server.stop()
            v.wait_for(lambda v: any(m["db"]["state"] == "down" for m in v.of_type("status")), timeout=15)
            ready = httpx.get(f"{live.url}/readyz", timeout=30)
            assert ready.status_code == 503
            check("readyz", ready.json())
            assert ready.json()["kind"] is not None
            # Older than the store: needs the database, which is down.
            older = {"start": ms(T0), "end": ms(T0) + 60_000}
            for path in ("/api/series/temperature/data", "/api/series/temperature/stats", "/api/export.csv"):
                reply = httpx.get(live.url + path, params=older, timeout=30)
                assert reply.status_code == 503, path
                check("error", reply.json())
            restartable_server.start()
            v.wait_for(lambda v: any(m["db"]["state"] == "up" for m in v.of_type("status")), timeout=30)
            wait_until(lambda: httpx.get(f"{live.url}/readyz", timeout=30).status_code == 200, timeout=30)
            for m in v.messages:
                check_message(m)
            v.close()
    finally:
        run(drop_database(restartable_server.admin, admin.database))


def test_metrics_is_documented_only_where_it_is_routed() -> None:
    assert "/metrics" in document(KEYS, signin=False)["paths"]
    # With METRICS_PORT, /metrics is served on that port alone.
    assert "/metrics" not in document(KEYS, signin=False, metrics=False)["paths"]
