"""The series shown: one historian table each, from defaults or ``SERIES_FILE``."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realtime.errors import ConfigError

__all__ = ["DEFAULT_SERIES", "INTERPOLATIONS", "SeriesSpec", "load_series_file", "quote_ident"]

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
INTERPOLATIONS = ("step", "linear")
MAX_SECONDS = 365 * 86_400


@dataclass(frozen=True)
class SeriesSpec:
    """One historian table, shown as one chart."""

    key: str
    table: str
    name: str
    unit: str = ""
    schema: str | None = None
    low: float | None = None
    high: float | None = None
    # Seconds without a sample before the tile warns, and before a line
    # breaks; None takes the global setting, else derives it from the
    # series' own sampling (see cadence.py).
    stale_after: float | None = None
    gap_after: float | None = None
    # "step" (hold each value until the next sample) or "linear"; None: the global setting.
    interpolation: str | None = None

    def __post_init__(self) -> None:
        if not _KEY_RE.match(self.key):
            raise ConfigError(f"series key {self.key!r} must be lowercase letters, digits, '-' or '_'")
        if not self.table:
            raise ConfigError(f"series {self.key!r} has an empty table name")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ConfigError(f"series {self.key!r}: low limit is above high limit")
        for name in ("stale_after", "gap_after"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= MAX_SECONDS:
                raise ConfigError(f"series {self.key!r}: {name} must be from 0 to {MAX_SECONDS} seconds")
        if self.interpolation is not None and self.interpolation not in INTERPOLATIONS:
            raise ConfigError(f"series {self.key!r}: interpolation must be 'step' or 'linear'")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name

    @property
    def qualified_name(self) -> str:
        """The table as SQL: quoted identifiers, from configuration only."""
        table = quote_ident(self.table)
        return f"{quote_ident(self.schema)}.{table}" if self.schema else table


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


DEFAULT_SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec("temperature", "CM_HAM_DO_AI1/Temp_value", "Temperature", "°C"),
    SeriesSpec("ph", "CM_HAM_PH_AI1/pH_value", "pH", ""),
    SeriesSpec("do", "CM_PID_DO/Process_DO", "Dissolved oxygen", "%"),
    SeriesSpec("pressure", "CM_PRESSURE/Output", "Pressure", "psi"),
)


def _optional_float(item: Mapping[str, Any], name: str, where: str) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {name!r} must be a finite number")
    return float(value)


_FIELDS = {"key", "table", "name", "unit", "schema", "low", "high", "stale_after", "gap_after", "interpolation"}


def load_series_file(path: Path) -> tuple[SeriesSpec, ...]:
    """Read a JSON list of series objects (see README, "Configuration")."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"SERIES_FILE {str(path)!r} cannot be read: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"SERIES_FILE {str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"SERIES_FILE {str(path)!r} must hold a non-empty JSON list")
    specs: list[SeriesSpec] = []
    for i, item in enumerate(raw):
        where = f"SERIES_FILE entry {i}"
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be an object")
        for required in ("key", "table", "name"):
            if not isinstance(item.get(required), str):
                raise ConfigError(f"{where} needs a string {required!r}")
        unit = item.get("unit", "")
        schema = item.get("schema")
        interpolation = item.get("interpolation")
        if not isinstance(unit, str) or (schema is not None and not isinstance(schema, str)):
            raise ConfigError(f"{where}: 'unit' and 'schema' must be strings")
        if interpolation is not None and interpolation not in INTERPOLATIONS:
            raise ConfigError(f"{where}: 'interpolation' must be 'step' or 'linear'")
        unknown = sorted(set(item) - _FIELDS)
        if unknown:
            raise ConfigError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(_FIELDS))})")
        specs.append(
            SeriesSpec(
                key=item["key"],
                table=item["table"],
                name=item["name"],
                unit=unit,
                schema=schema,
                low=_optional_float(item, "low", where),
                high=_optional_float(item, "high", where),
                stale_after=_optional_float(item, "stale_after", where),
                gap_after=_optional_float(item, "gap_after", where),
                interpolation=interpolation,
            )
        )
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ConfigError("SERIES_FILE has duplicate series keys")
    return tuple(specs)
