"""The contract's JSON Schemas (``realtime/schema/``), to check what the server really sends."""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from realtime.views.openapi import schemas

__all__ = ["check", "check_frame", "check_message", "validator"]

# Messages quote the instance; a window of 10,000 rows would drown the one line that matters.
_SHOWN = 300
WS_TYPES = ("hello", "append", "status", "resync", "heartbeat", "error")


@functools.cache
def _registry() -> Registry[Any]:
    # Each schema under its file name, so "common.json#/$defs/time" resolves as in the files.
    resources = [
        (f"{name}.json", Resource.from_contents(schema, default_specification=DRAFT202012))
        for name, schema in schemas().items()
    ]
    return Registry().with_resources(resources)


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """A validator for ``realtime/schema/<name>.json``."""
    return Draft202012Validator({"$ref": f"{name}.json"}, registry=_registry())


def check(name: str, instance: Any) -> None:
    """Fails, saying where and why, unless ``instance`` matches schema ``name``."""
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        lines = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:_SHOWN]}" for e in errors[:5]]
        raise AssertionError(f"does not match {name}.json:\n  " + "\n  ".join(lines))


def check_message(message: Any) -> None:
    """One server message: its own schema first (a precise reason), then the union every client parses."""
    kind = message.get("type") if isinstance(message, dict) else None
    if kind in WS_TYPES:
        check(f"ws-{kind}", message)
    check("ws-message", message)


def check_frame(frame: Any) -> None:
    """One text frame as parsed JSON: a message or a non-empty array of them."""
    for message in frame if isinstance(frame, list) else [frame]:
        check_message(message)
    check("ws-frame", frame)
