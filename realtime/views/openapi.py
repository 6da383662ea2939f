"""``/openapi.json``: the API as OpenAPI 3.1, built from the contract's JSON Schemas.

``realtime/schema/`` holds one JSON Schema (draft 2020-12) per REST answer and
WebSocket message, and ``openapi.json``, which refers to them by file name. The
tests check the server's real answers and ``frontend/src/types.ts`` against the
same files (docs/contract.md). Served, the document is one self-contained file:
every schema becomes ``#/components/schemas/<name>`` and every reference points
there; the ``key`` parameter lists the configured series; the sign-in routes are
and ``/metrics`` are listed only where they are routed.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from realtime.context import PACKAGE_DIR, context

__all__ = ["SCHEMA_DIR", "document", "openapi_json", "schemas"]

SCHEMA_DIR = PACKAGE_DIR / "schema"
_SIGNIN_PATHS = ("/signin", "/signout")


@functools.cache
def schemas() -> dict[str, dict[str, Any]]:
    """Every schema file but the OpenAPI document, by name (``ws-hello`` for ``ws-hello.json``)."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(SCHEMA_DIR.glob("*.json"))
        if path.name != "openapi.json"
    }


def _target(ref: str, within: str | None) -> str:
    """Where a reference points once every schema is under ``#/components/schemas``."""
    file, _, pointer = ref.partition("#")
    if file.endswith(".json"):
        return f"#/components/schemas/{file[: -len('.json')]}{pointer}"
    if not file and within is not None:
        return f"#/components/schemas/{within}{pointer}"  # a schema's own $defs
    return ref


def _relink(node: Any, within: str | None) -> Any:
    if isinstance(node, dict):
        return {k: _target(v, within) if k == "$ref" else _relink(v, within) for k, v in node.items()}
    if isinstance(node, list):
        return [_relink(x, within) for x in node]
    return node


def document(keys: Sequence[str], *, signin: bool, metrics: bool = True) -> dict[str, Any]:
    """The OpenAPI document for an app serving ``keys``, with or without the sign-in routes and ``/metrics``."""
    raw = json.loads((SCHEMA_DIR / "openapi.json").read_text(encoding="utf-8"))
    doc: dict[str, Any] = _relink(raw, None)
    doc["components"]["schemas"] = {name: _relink(copy.deepcopy(s), name) for name, s in schemas().items()}
    # A schema's own "$schema" is implied by jsonSchemaDialect.
    for schema in doc["components"]["schemas"].values():
        schema.pop("$schema", None)
    doc["components"]["parameters"]["key"]["schema"]["enum"] = list(keys)
    if not signin:
        for path in _SIGNIN_PATHS:
            del doc["paths"][path]
    if not metrics:
        del doc["paths"]["/metrics"]  # served on METRICS_PORT instead
    return doc


@functools.lru_cache(maxsize=4)
def _encoded(keys: tuple[str, ...], signin: bool, metrics: bool) -> bytes:
    return json.dumps(document(keys, signin=signin, metrics=metrics), ensure_ascii=False).encode()


async def openapi_json(request: Request) -> Response:
    ctx = context(request)
    signin = ctx.auth is not None and ctx.auth.has_form
    metrics = ctx.settings.metrics_port is None
    body = _encoded(tuple(s.key for s in ctx.settings.series), signin, metrics)
    return Response(body, media_type="application/json")
