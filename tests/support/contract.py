"""The contract's JSON Schemas (``realtime/schema/``), to check what the server really sends.

:func:`check` validates with ``jsonschema`` and says where and why an answer
differs. The fuzz tests check thousands of answers, some with thousands of
samples, where that costs a second each: :func:`quick_check` asks
``jsonschema-rs`` (the same schemas, the same draft) for a verdict, and
:func:`check` for the reason only when it fails.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from realtime.views.openapi import schemas

__all__ = ["WS_TYPES", "check", "check_frame", "check_message", "inlined", "quick_check", "validator"]

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


def inlined(name: str) -> dict[str, Any]:
    """Schema ``name`` with every reference replaced by what it points to (the schemas do not recurse)."""

    def resolve(node: Any, within: str) -> Any:
        if isinstance(node, list):
            return [resolve(x, within) for x in node]
        if not isinstance(node, dict):
            return node
        if "$ref" not in node:
            return {k: resolve(v, within) for k, v in node.items()}
        file, _, pointer = node["$ref"].partition("#")
        target_name = file.removesuffix(".json") if file else within
        target: Any = schemas()[target_name]
        for part in filter(None, pointer.split("/")):
            target = target[part]
        return resolve(target, target_name)

    result: dict[str, Any] = resolve(schemas()[name], name)
    return result


@functools.cache
def _quick(name: str) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(inlined(name))


def quick_check(name: str, instance: Any) -> None:
    """:func:`check`, fast: jsonschema-rs decides, jsonschema explains."""
    if not _quick(name).is_valid(instance):
        check(name, instance)
        raise AssertionError(f"jsonschema-rs finds that this does not match {name}.json, jsonschema finds it does")


def check_message(message: Any, *, quick: bool = False) -> None:
    """One server message: its own schema first (a precise reason), then the union every client parses."""
    validate = quick_check if quick else check
    kind = message.get("type") if isinstance(message, dict) else None
    if kind in WS_TYPES:
        validate(f"ws-{kind}", message)
    validate("ws-message", message)


def check_frame(frame: Any) -> None:
    """One text frame as parsed JSON: a message or a non-empty array of them."""
    for message in frame if isinstance(frame, list) else [frame]:
        check_message(message)
    check("ws-frame", frame)
