"""A light first view (#8): compressed answers, cacheable assets, no source maps, one
request for every chart's window. A real app on a real port, read with plain HTTP (no
client that decodes or caches on its own)."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from realtime.views.assets import IMMUTABLE, STATIC_DIR, asset_urls, is_hashed
from tests.support.http import request
from tests.support.pg import TestDb
from tests.support.sample import T0, app_settings, fill, ms
from tests.support.server import LiveServer, serve

KEYS = ["temperature", "ph", "do", "pressure"]
GZIP = {"Accept-Encoding": "gzip, deflate, br"}
WINDOW = f"start={ms(T0)}&end={ms(T0 + timedelta(hours=2))}&points=300"


@pytest.fixture
def server(db: TestDb) -> Iterator[LiveServer]:
    fill(db)
    with serve(app_settings(db)) as live:
        yield live


def page_assets(server: LiveServer) -> list[str]:
    """What the page links to: its script and its styles."""
    page = request(server.port, "/").text
    return re.findall(r'(?:src|href)="(static/[^"]+)"', page)


def test_page_assets_and_json_are_gzipped_only_when_accepted(server: LiveServer) -> None:
    assets = page_assets(server)
    assert len(assets) == 2
    paths = [
        "/",
        *("/" + a for a in assets),
        "/api/series",
        f"/api/series/temperature/data?{WINDOW}",
        f"/api/data?{WINDOW}",
        "/openapi.json",
    ]
    for path in paths:
        plain = request(server.port, path)
        packed = request(server.port, path, headers=GZIP)
        assert plain.status == packed.status == 200, path
        assert "content-encoding" not in plain.headers, path
        assert packed.headers["content-encoding"] == "gzip", path
        assert "accept-encoding" in packed.headers["vary"].lower(), path
        assert gzip.decompress(packed.body) == plain.body, path
        assert int(packed.headers["content-length"]) == len(packed.body) < len(plain.body) / 2, path
        assert packed.headers["content-type"] == plain.headers["content-type"], path
    # A client that refuses gzip outright gets the bytes as they are.
    refused = request(server.port, "/" + assets[0], headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers


def test_the_csv_export_streams_uncompressed(server: LiveServer) -> None:
    # Compressing it would cost the export its speed; it still streams (chunked, no length).
    reply = request(server.port, "/api/export.csv?series=temperature", headers=GZIP)
    assert reply.status == 200
    assert "content-encoding" not in reply.headers
    assert reply.headers.get("transfer-encoding") == "chunked"
    assert reply.body.startswith(b"time,")
    assert reply.body.count(b"\n") == 3602  # the default window: the last hour of rows, and the header


def test_hashed_assets_are_immutable_and_the_page_is_revalidated(server: LiveServer) -> None:
    page = request(server.port, "/", headers=GZIP)
    assert page.headers["cache-control"] == "no-cache"
    for asset in page_assets(server):
        assert is_hashed(asset.removeprefix("static/")), asset
        for headers in ({}, GZIP):
            reply = request(server.port, "/" + asset, headers=headers)
            assert reply.status == 200
            assert reply.headers["cache-control"] == IMMUTABLE
    assert asset_urls()["signin.css"].startswith("static/signin-")
    # What is not named after its content is revalidated.
    manifest = request(server.port, "/static/manifest.json")
    assert manifest.status == 200
    assert manifest.headers["cache-control"] == "no-cache"
    assert set(json.loads(manifest.body)) == {"app.js", "app.css", "signin.css"}


def test_no_source_maps_are_built_or_served(server: LiveServer) -> None:
    # The production build (scripts/build-frontend without --dev, and the wheel's) has none.
    assert sorted(p.name for p in STATIC_DIR.glob("*.map")) == []
    for asset in page_assets(server):
        assert b"sourceMappingURL" not in request(server.port, "/" + asset).body
        assert request(server.port, f"/{asset}.map").status == 404
    assert request(server.port, "/static/app.js.map").status == 404


def test_one_request_answers_every_series_as_its_own_route_does(server: LiveServer) -> None:
    everything = request(server.port, f"/api/data?{WINDOW}").json()
    assert list(everything["series"]) == KEYS
    for key in KEYS:
        alone = request(server.port, f"/api/series/{key}/data?{WINDOW}").json()
        assert everything["series"][key] == alone
    some = request(server.port, f"/api/data?series=pressure,temperature&{WINDOW}").json()
    assert list(some["series"]) == ["pressure", "temperature"]
    # No bounds: each series' own default window (the last hour of its data), as alone.
    defaults = request(server.port, "/api/data?series=temperature,pressure").json()["series"]
    assert defaults["temperature"] == request(server.port, "/api/series/temperature/data").json()
    assert defaults["pressure"]["start"] is None  # no rows: no window


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("series=temperature,nope", 404, "series"),
        ("series=", 400, "series"),
        ("series=temperature,temperature", 400, "series"),
        ("series=temperature&points=1", 400, "points"),
        ("series=temperature&start=yesterday", 400, "start"),
        ("series=do&end=2026-13-01", 400, "end"),
        (f"start={ms(T0) + 1000}&end={ms(T0)}", 400, "start"),
    ],
)
def test_batch_errors_name_the_parameter(server: LiveServer, query: str, status: int, parameter: str) -> None:
    reply = request(server.port, f"/api/data?{query}")
    assert reply.status == status
    assert reply.json()["parameter"] == parameter


def test_the_page_carries_the_series_list(server: LiveServer) -> None:
    page = request(server.port, "/").text
    boot = re.search(r'<script id="boot" type="application/json">(.*?)</script>', page, re.S)
    assert boot is not None
    data = json.loads(boot.group(1).replace("<\\/", "</"))
    assert data["info"] == request(server.port, "/api/series").json()
    assert data["ws_path"] == "ws"
    # Every URL in the page is relative: it works under a path prefix.
    assert not re.search(r'(?:src|href|action)="/', page)
