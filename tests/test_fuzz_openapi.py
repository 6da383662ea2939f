"""Schemathesis against the OpenAPI document the app serves (#9).

Every operation of ``/openapi.json`` gets its documented examples, the
coverage phase's boundary values, and fuzzed inputs, valid and invalid for
the document, sent to a real server on a real PostgreSQL holding a little
data. Each answer must be documented (status, content type, headers, body
schema) and pass :func:`tests.support.fuzzing.assert_sound`: no 5xx, every
4xx JSON naming what is at fault.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from realtime.config import PgSettings
from realtime.views.openapi import document
from tests.support.fuzzing import FUZZ, assert_sound, server_errors
from tests.support.pg import PgServer, create_schema, run
from tests.support.sample import app_settings, fill
from tests.support.server import LiveServer, serve

KEYS = ["temperature", "ph", "do", "pressure"]
# The document as the app below serves it (test_contract checks that it does).
SCHEMA = schemathesis.openapi.from_dict(document(KEYS, signin=False))
SCHEMA.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=25,
    deterministic=True,
    database="none",
    allow_x00=True,
)
SCHEMA.config.phases.update(phases=["examples", "coverage", "fuzzing"])
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def server(pg_admin: PgSettings, pg_server: PgServer) -> Iterator[LiveServer]:
    db = run(create_schema(pg_admin, pg_server))
    fill(db)
    with serve(app_settings(db)) as live:
        yield live


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@SCHEMA.parametrize()
@FUZZ
def test_every_operation_answers_as_documented(case: Any, server: LiveServer, session: requests.Session) -> None:
    with server_errors() as errors:
        response = case.call(base_url=server.url, session=session, timeout=60)
    case.validate_response(response, checks=CHECKS)
    route = case.operation.path
    key = (case.path_parameters or {}).get("key")
    if isinstance(key, str) and (key in ("", ".", "..") or "/" in key):
        route = "/no/route"  # not one path segment: no route matches
    given = {*(case.query or {}), *(case.path_parameters or {})}
    content_type = response.headers.get("content-type", [""])[0]
    assert_sound(route, response.status_code, content_type, response.content, given)
    assert not errors, [r.getMessage() for r in errors]
