"""Settings, read once from the environment into frozen dataclasses.

No other module reads ``os.environ``: everything is passed explicitly from
:func:`load_settings`, so tests can build a :class:`Settings` by hand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_SERIES",
    "ConfigError",
    "PgSettings",
    "SeriesSpec",
    "Settings",
    "load_settings",
]

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the user."""


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
    # Seconds without a sample before the tile warns; None derives it from
    # the series' typical interval.
    stale_after: float | None = None

    def __post_init__(self) -> None:
        if not _KEY_RE.match(self.key):
            raise ConfigError(f"series key {self.key!r} must be lowercase letters, digits, '-' or '_'")
        if not self.table:
            raise ConfigError(f"series {self.key!r} has an empty table name")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ConfigError(f"series {self.key!r}: low limit is above high limit")
        if self.stale_after is not None and self.stale_after <= 0:
            raise ConfigError(f"series {self.key!r}: stale_after must be positive")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name


DEFAULT_SERIES: tuple[SeriesSpec, ...] = (
    SeriesSpec("temperature", "CM_HAM_DO_AI1/Temp_value", "Temperature", "°C"),
    SeriesSpec("ph", "CM_HAM_PH_AI1/pH_value", "pH", ""),
    SeriesSpec("do", "CM_PID_DO/Process_DO", "Dissolved oxygen", "%"),
    SeriesSpec("pressure", "CM_PRESSURE/Output", "Pressure", "psi"),
)


@dataclass(frozen=True)
class PgSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str


@dataclass(frozen=True)
class Settings:
    pg: PgSettings
    series: tuple[SeriesSpec, ...] = DEFAULT_SERIES
    host: str = "0.0.0.0"
    port: int = 8888
    # Zone in which the historian's naive timestamps are written.
    data_timezone: str = "UTC"
    poll_interval: float = 0.5
    reconcile_interval: float = 5.0
    reconcile_horizon: float = 3600.0
    # Store limits: seconds of history before the newest row (None: all) and
    # points per series. Older ranges are read from PostgreSQL on demand.
    store_horizon: float | None = None
    store_max_points: int = 20_000_000
    default_points: int = 1000
    max_points: int = 10_000
    client_queue_size: int = 256
    send_timeout: float = 5.0
    heartbeat_interval: float = 15.0
    # Above this many rows a reconnecting client is told to reload instead.
    replay_max_rows: int = 200_000
    demo: bool = False

    def series_by_key(self) -> dict[str, SeriesSpec]:
        return {s.key: s for s in self.series}


_PG_VARS = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value > minimum:
        raise ConfigError(f"{name} must be greater than {minimum:g}, got {raw!r}")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _optional_float(item: Mapping[str, Any], name: str, where: str) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {name!r} must be a number")
    return float(value)


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
        if not isinstance(unit, str) or (schema is not None and not isinstance(schema, str)):
            raise ConfigError(f"{where}: 'unit' and 'schema' must be strings")
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
            )
        )
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ConfigError("SERIES_FILE has duplicate series keys")
    return tuple(specs)


def pg_from_env(env: Mapping[str, str]) -> PgSettings:
    missing = [name for name in _PG_VARS if name != "POSTGRES_PASSWORD" and not env.get(name)]
    if missing:
        raise ConfigError(f"missing environment variables: {', '.join(missing)} (or use --demo)")
    raw_port = env["POSTGRES_PORT"].strip()
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise ConfigError(f"POSTGRES_PORT must be a TCP port number, got {raw_port!r}")
    return PgSettings(
        host=env["POSTGRES_HOST"],
        port=int(raw_port),
        user=env["POSTGRES_USER"],
        password=env.get("POSTGRES_PASSWORD", ""),
        database=env["POSTGRES_DB"],
    )


def load_settings(env: Mapping[str, str], *, pg: PgSettings | None = None, demo: bool = False) -> Settings:
    """Build settings from an environment mapping; ``pg`` overrides POSTGRES_*."""
    pg = pg if pg is not None else pg_from_env(env)
    tz = env.get("DATA_TIMEZONE", "UTC").strip() or "UTC"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"DATA_TIMEZONE {tz!r} is not a known IANA time zone") from None
    series_file = env.get("SERIES_FILE", "").strip()
    series = load_series_file(Path(series_file)) if series_file else DEFAULT_SERIES
    horizon_raw = env.get("STORE_HORIZON", "").strip()
    store_horizon = _number(env, "STORE_HORIZON", 0.0) if horizon_raw else None
    return Settings(
        pg=pg,
        series=series,
        host=env.get("HOST", "").strip() or "0.0.0.0",
        port=_integer(env, "PORT", 8888),
        data_timezone=tz,
        poll_interval=_number(env, "POLL_INTERVAL", 0.5),
        reconcile_interval=_number(env, "RECONCILE_INTERVAL", 5.0),
        reconcile_horizon=_number(env, "RECONCILE_HORIZON", 3600.0),
        store_horizon=store_horizon,
        store_max_points=_integer(env, "STORE_MAX_POINTS", 20_000_000, minimum=1000),
        client_queue_size=_integer(env, "CLIENT_QUEUE_SIZE", 256),
        demo=demo,
    )
