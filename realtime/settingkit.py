"""How a setting is declared and read: the field metadata, the parsers, the reading loop.

:mod:`realtime.config` holds the declarations themselves; this module is the
machinery they share, so the list of settings stays one readable table.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from realtime.errors import ConfigError

__all__ = [
    "Parse",
    "choice",
    "env",
    "env_fields",
    "integer",
    "number",
    "read_fields",
    "shown_default",
    "text",
    "time_zone",
]

Parse = Callable[[str, str], Any]


def env(
    name: str, help: str, parse: Parse, *, shown: str | None = None, verbatim: bool = False, secret: bool = False
) -> dict[str, Any]:
    """A field's metadata: read from variable ``name``; ``shown`` is the default as the README prints it.

    ``verbatim`` values are taken as given (not stripped, empty allowed). A
    ``secret`` may instead come from the file named by ``<name>_FILE`` (the
    Docker secrets convention).
    """
    return {"env": name, "help": help, "parse": parse, "shown": shown, "verbatim": verbatim, "secret": secret}


# -- parsers: (variable name, raw text) -> value, or ConfigError -------------------------


def number(minimum: float, maximum: float) -> Parse:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if not math.isfinite(value) or not minimum <= value <= maximum:
            raise ConfigError(f"{name} must be a number from {minimum:g} to {maximum:g}, got {raw!r}")
        return value

    return parse


def integer(minimum: int, maximum: int) -> Parse:
    def parse(name: str, raw: str) -> int:
        if not raw.isascii() or not raw.lstrip("+-").isdigit() or len(raw) > 18:
            raise ConfigError(f"{name} must be an integer, got {raw!r}")
        value = int(raw)
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name} must be an integer from {minimum} to {maximum}, got {raw!r}")
        return value

    return parse


def choice(*options: str) -> Parse:
    def parse(name: str, raw: str) -> str:
        if raw not in options:
            raise ConfigError(f"{name} must be one of {', '.join(options)}, got {raw!r}")
        return raw

    return parse


def text(name: str, raw: str) -> str:
    return raw


def time_zone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} {raw!r} is not a known IANA time zone") from None
    return raw


def env_fields(cls: type[Any]) -> Iterator[dataclasses.Field[Any]]:
    return (f for f in dataclasses.fields(cls) if "env" in f.metadata)


def read_fields(cls: type[Any], environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    missing: list[str] = []
    for f in env_fields(cls):
        name = f.metadata["env"]
        if f.metadata["secret"] and environ.get(f"{name}_FILE", "").strip():
            if name in environ:
                raise ConfigError(f"set {name} or {name}_FILE, not both")
            values[f.name] = _read_secret(f"{name}_FILE", environ[f"{name}_FILE"].strip())
            continue
        if f.metadata["verbatim"]:
            values[f.name] = environ.get(name, "")
            continue
        raw = environ.get(name, "").strip()
        if not raw:
            if f.default is dataclasses.MISSING:
                missing.append(name)
            continue
        values[f.name] = f.metadata["parse"](name, raw)
    if missing:
        raise ConfigError(f"missing environment variables: {', '.join(missing)} (or use --demo)")
    return values


def _read_secret(name: str, path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{name} {path!r} cannot be read: {exc.strerror}") from None
    # A secret file ends with one newline, which is not part of the secret.
    return text[:-1] if text.endswith("\n") else text


def shown_default(f: dataclasses.Field[Any]) -> str:
    if f.metadata["shown"] is not None:
        return str(f.metadata["shown"])
    if f.default is dataclasses.MISSING:
        return "(required)"
    if f.default is None:
        return "(unset)"
    return f"`{f.default:g}`" if isinstance(f.default, float) else f"`{f.default}`"
