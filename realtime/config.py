"""Every setting, declared once: environment name, type, default, range and help.

Each field of :class:`PgSettings` and :class:`Settings` that comes from the
environment carries its variable name and help text in the field's metadata.
:func:`load_settings` reads the environment by walking those fields, and
:func:`settings_table` renders the README's configuration table from them
(``python -m realtime.config``), so code, defaults and documentation cannot
drift apart. No other module reads ``os.environ``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from realtime.errors import ConfigError
from realtime.series import DEFAULT_SERIES, INTERPOLATIONS, SeriesSpec, load_series_file
from realtime.settingkit import (
    choice,
    env,
    env_fields,
    integer,
    number,
    read_fields,
    shown_default,
    text,
    time_zone,
)
from realtime.settings_access import AccessSettings

__all__ = [
    "ConfigError",
    "PgSettings",
    "Settings",
    "load_settings",
    "log_format",
    "pg_from_env",
    "settings_table",
    "time_zone",
]


def series_file(name: str, raw: str) -> tuple[SeriesSpec, ...]:
    return load_series_file(Path(raw))


_PORT = integer(1, 65535)
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%-]+", re.ASCII)


def root_path(name: str, raw: str) -> str:
    """``/a/b`` (a trailing slash dropped), or empty for none; plain URL path segments only."""
    text = raw.strip().rstrip("/")
    segments = text.split("/")
    if text and (
        segments[0] != "" or not all(_PATH_SEGMENT.fullmatch(x) and x not in (".", "..") for x in segments[1:])
    ):
        raise ConfigError(f"{name} must be a URL path such as /bioreactor, got {raw!r}")
    return text


@dataclass(frozen=True)
class PgSettings:
    host: str = field(metadata=env("POSTGRES_HOST", "the historian database's host (or Unix socket directory)", text))
    port: int = field(metadata=env("POSTGRES_PORT", "its port", _PORT))
    user: str = field(metadata=env("POSTGRES_USER", "a role with SELECT on the series tables", text))
    password: str = field(
        repr=False,
        metadata=env(
            "POSTGRES_PASSWORD",
            "its password (may be empty or unset)",
            text,
            shown="(empty)",
            verbatim=True,
            secret=True,
        ),
    )
    database: str = field(metadata=env("POSTGRES_DB", "the database name", text))


@dataclass(frozen=True, kw_only=True)
class Settings(AccessSettings):
    pg: PgSettings
    series: tuple[SeriesSpec, ...] = field(
        default=DEFAULT_SERIES,
        metadata=env(
            "SERIES_FILE",
            "a JSON list of series, to rename tables or add limits (below)",
            series_file,
            shown="(the four tables below)",
        ),
    )
    host: str = field(
        default="0.0.0.0", metadata=env("HOST", "address to listen on (`run-app --host` overrides)", text)
    )
    port: int = field(default=8888, metadata=env("PORT", "port to listen on (`run-app --port` overrides)", _PORT))
    root_path: str = field(
        default="",
        metadata=env(
            "ROOT_PATH",
            "the path prefix under which a reverse proxy publishes the app (e.g. `/bioreactor`); the proxy may "
            "strip it or pass it on. The page's own URLs are relative; this one is for redirects and the cookie",
            root_path,
            shown="(none)",
        ),
    )
    data_timezone: str = field(
        default="UTC",
        metadata=env(
            "DATA_TIMEZONE",
            "the IANA zone in which the historian writes its naive `timestamp` values; "
            "`timestamptz` columns are used as they are",
            time_zone,
        ),
    )
    poll_interval: float = field(
        default=0.5, metadata=env("POLL_INTERVAL", "seconds between polls for new rows, per table", number(0.01, 60))
    )
    poll_stall_after: float = field(
        default=60.0,
        metadata=env(
            "POLL_STALL_AFTER",
            "seconds without a finished poll round (the database answering, or the poller reporting why not) "
            "after which `/readyz` reports the poller stalled",
            number(1, 86400),
        ),
    )
    reconcile_interval: float = field(
        default=5.0,
        metadata=env("RECONCILE_INTERVAL", "seconds between checks for late (backfilled) rows", number(0.1, 3600)),
    )
    reconcile_horizon: float = field(
        default=3600.0,
        metadata=env(
            "RECONCILE_HORIZON",
            "how far back, in seconds before the newest row, late rows are looked for",
            number(60, 10 * 365 * 86400),
        ),
    )
    sweep_interval: float = field(
        default=300.0,
        metadata=env(
            "SWEEP_INTERVAL",
            "seconds between sweeps for late rows over everything in memory (hourly counts), however old they are",
            number(10, 86400),
        ),
    )
    store_horizon: float | None = field(
        default=None,
        metadata=env(
            "STORE_HORIZON",
            "seconds of history kept in memory, counted back from the newest row; older ranges are read from "
            "PostgreSQL on demand",
            number(1, 100 * 365 * 86400),
            shown="(all)",
        ),
    )
    store_max_points: int = field(
        default=20_000_000,
        metadata=env(
            "STORE_MAX_POINTS",
            "rows kept in memory per series (about 19 bytes each); older rows are read from PostgreSQL on demand",
            integer(1000, 2_000_000_000),
        ),
    )
    gap_after: float | None = field(
        default=None,
        metadata=env(
            "GAP_AFTER",
            "seconds between two samples beyond which a chart breaks its line (a real outage); unset: derived per "
            "series from its own sampling (see *Breaks and staleness*)",
            number(0.001, 365 * 86400),
            shown="(derived)",
        ),
    )
    stale_after: float | None = field(
        default=None,
        metadata=env(
            "STALE_AFTER",
            "seconds without a new sample before a tile says *Stale*; unset: derived per series, as for `GAP_AFTER`",
            number(0.001, 365 * 86400),
            shown="(derived)",
        ),
    )
    interpolation: str = field(
        default="step",
        metadata=env(
            "INTERPOLATION",
            "how charts draw between samples: `step` (hold each value until the next sample, as a historian "
            "logging by exception means it) or `linear`",
            choice(*INTERPOLATIONS),
        ),
    )
    default_points: int = field(
        default=1000,
        metadata=env(
            "DEFAULT_POINTS", "points per history response when the request gives no `points`", integer(2, 100_000)
        ),
    )
    max_points: int = field(
        default=10_000, metadata=env("MAX_POINTS", "the most points a history request may ask for", integer(2, 100_000))
    )
    client_buffer_bytes: int = field(
        default=16 * 1024 * 1024,
        metadata=env(
            "CLIENT_BUFFER_BYTES",
            "bytes a viewer may fall behind (what its socket still holds) before it is dropped; it reconnects and "
            "catches up. Must hold the largest replay (`REPLAY_MAX_ROWS` at about 35 bytes a row)",
            integer(64 * 1024, 1 << 31),
        ),
    )
    max_viewers: int = field(
        default=5000,
        metadata=env(
            "MAX_VIEWERS",
            "live-feed connections one process serves; the next is refused with 503 before the handshake",
            integer(1, 1_000_000),
        ),
    )
    max_connections: int = field(
        default=6000,
        metadata=env(
            "MAX_CONNECTIONS",
            "connections of any kind one process accepts (viewers, page and API requests); beyond it, 503. "
            "The process raises its descriptor limit to fit, within the hard limit",
            integer(10, 1_000_000),
        ),
    )
    max_viewers_per_client: int = field(
        default=100,
        metadata=env(
            "MAX_VIEWERS_PER_CLIENT",
            "live-feed connections from one client address (behind a proxy, set `TRUSTED_PROXIES` so the "
            "address is the browser's); the next is refused with 503",
            integer(1, 1_000_000),
        ),
    )
    max_exports: int = field(
        default=4,
        metadata=env(
            "MAX_EXPORTS",
            "CSV exports one process streams at once; the next is refused with 429 and `Retry-After`",
            integer(1, 1000),
        ),
    )
    max_message_bytes: int = field(
        default=64 * 1024,
        metadata=env(
            "MAX_MESSAGE_BYTES",
            "the largest WebSocket message a viewer may send; a larger one closes its connection (1009)",
            integer(1024, 16 * 1024 * 1024),
        ),
    )
    shutdown_timeout: float = field(
        default=10.0,
        metadata=env(
            "SHUTDOWN_TIMEOUT",
            "seconds a shutdown waits for requests in flight (e.g. a CSV download) before cutting them",
            number(0, 3600),
        ),
    )
    send_timeout: float = field(
        default=5.0,
        metadata=env(
            "SEND_TIMEOUT", "seconds a send to one browser may take before it is dropped as frozen", number(0.1, 600)
        ),
    )
    heartbeat_interval: float = field(
        default=15.0,
        metadata=env("HEARTBEAT_INTERVAL", "seconds between heartbeat messages on the live feed", number(0.1, 3600)),
    )
    replay_max_rows: int = field(
        default=200_000,
        metadata=env(
            "REPLAY_MAX_ROWS",
            "the most rows a reconnecting browser is replayed per series; beyond that it reloads its window",
            integer(1, 100_000_000),
        ),
    )
    demo: bool = False

    def __post_init__(self) -> None:
        if self.default_points > self.max_points:
            raise ConfigError("DEFAULT_POINTS must not exceed MAX_POINTS")
        if self.max_viewers > self.max_connections:
            raise ConfigError("MAX_VIEWERS must not exceed MAX_CONNECTIONS")
        if self.replay_max_rows * 40 > self.client_buffer_bytes:
            raise ConfigError("CLIENT_BUFFER_BYTES must hold the largest replay: at least 40 bytes per REPLAY_MAX_ROWS")
        if self.auth_proxy_header is not None and not self.trusted_proxies:
            raise ConfigError("AUTH_PROXY_HEADER needs TRUSTED_PROXIES: the proxies allowed to set it")
        if self.metrics_port == self.port:
            raise ConfigError("METRICS_PORT must differ from PORT (unset it to serve /metrics on PORT)")

    @property
    def auth_required(self) -> bool:
        return self.auth_users_file is not None or self.auth_proxy_header is not None

    def series_by_key(self) -> dict[str, SeriesSpec]:
        return {s.key: s for s in self.series}


def pg_from_env(environ: Mapping[str, str]) -> PgSettings:
    return PgSettings(**read_fields(PgSettings, environ))


def load_settings(environ: Mapping[str, str], *, pg: PgSettings | None = None, demo: bool = False) -> Settings:
    """Build settings from an environment mapping; ``pg`` overrides POSTGRES_*."""
    return Settings(pg=pg if pg is not None else pg_from_env(environ), demo=demo, **read_fields(Settings, environ))


def log_format(environ: Mapping[str, str]) -> str:
    """``LOG_FORMAT`` alone, parsed as :func:`load_settings` does: logging is set up before the rest is read."""
    f = next(f for f in env_fields(Settings) if f.name == "log_format")
    raw = environ.get(f.metadata["env"], "").strip()
    return str(f.metadata["parse"](f.metadata["env"], raw)) if raw else str(f.default)


def settings_table() -> str:
    """The README's configuration table, from the declarations above."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    access = {f.name for f in env_fields(AccessSettings)}
    # The database first, then the data and serving settings, then the plant-facing ones.
    ordered = [
        *env_fields(PgSettings),
        *(f for f in env_fields(Settings) if f.name not in access),
        *env_fields(AccessSettings),
    ]
    for f in ordered:
        lines.append(f"| `{f.metadata['env']}` | {shown_default(f)} | {f.metadata['help']} |")
        if f.metadata["secret"]:
            lines.append(
                f"| `{f.metadata['env']}_FILE` | (unset) | a file holding `{f.metadata['env']}` instead "
                "(Docker secrets); never logged |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(settings_table())
