"""The plant-facing settings: who may look, what the browser may do, how the app is watched.

Declared as a base of :class:`realtime.config.Settings`, in the same way (field
metadata: variable, help, parser), so they are read and documented with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from realtime.netparse import Network, cidr_list, frame_ancestors, header_name, origin_list, secret_file, users_file
from realtime.settingkit import choice, env, integer, number

__all__ = ["AccessSettings"]

_PORT = integer(1, 65535)


@dataclass(frozen=True, kw_only=True)
class AccessSettings:
    auth_users_file: Path | None = field(
        default=None,
        metadata=env(
            "AUTH_USERS_FILE",
            "an htpasswd file of bcrypt hashes (`htpasswd -B`); when set, every route but `/healthz` and `/readyz` "
            "needs a user: the page signs in with a form, the API and WebSocket also take HTTP Basic",
            users_file,
            shown="(unset: open)",
        ),
    )
    auth_proxy_header: str | None = field(
        default=None,
        metadata=env(
            "AUTH_PROXY_HEADER",
            "a header holding the user name set by a single sign-on proxy (e.g. `X-Forwarded-User`), believed "
            "only from `TRUSTED_PROXIES`; when set, every route but the health checks needs a user",
            header_name,
        ),
    )
    trusted_proxies: tuple[Network, ...] = field(
        default=(),
        metadata=env(
            "TRUSTED_PROXIES",
            "addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For`, `-Proto`, `-Host` and "
            "`AUTH_PROXY_HEADER` are believed (comma-separated)",
            cidr_list,
            shown="(none)",
        ),
    )
    session_secret: bytes | None = field(
        default=None,
        repr=False,
        metadata=env(
            "SESSION_SECRET_FILE",
            "a file holding at least 32 random bytes that sign sign-in cookies; unset: a random secret per "
            "process, so sessions end when the app restarts",
            secret_file,
            shown="(random per process)",
        ),
    )
    session_lifetime: float = field(
        default=43200.0, metadata=env("SESSION_LIFETIME", "seconds a browser sign-in lasts", number(60, 30 * 86400))
    )
    auth_max_failures: int = field(
        default=10,
        metadata=env(
            "AUTH_MAX_FAILURES",
            "failed sign-ins (form or HTTP Basic) one client address may make in 5 minutes before it gets 429",
            integer(1, 100_000),
        ),
    )
    allowed_origins: tuple[str, ...] = field(
        default=(),
        metadata=env(
            "ALLOWED_ORIGINS",
            "origins besides the page's own whose pages may open the live feed or post forms (comma-separated, "
            "e.g. `https://portal.plant.example`)",
            origin_list,
            shown="(the page's own)",
        ),
    )
    frame_ancestors: str = field(
        default="'none'",
        metadata=env(
            "FRAME_ANCESTORS",
            "who may show the dashboard in a frame (CSP `frame-ancestors`): `'none'`, `'self'` or origins, "
            "space-separated, e.g. `https://portal.plant.example`",
            frame_ancestors,
        ),
    )
    hsts_seconds: int | None = field(
        default=None,
        metadata=env(
            "HSTS_SECONDS",
            "send `Strict-Transport-Security` with this max-age; set it only when browsers reach the app over "
            "HTTPS (TLS at the proxy)",
            integer(0, 2 * 365 * 86400),
            shown="(unset: none)",
        ),
    )
    # -- monitoring (#9) ---------------------------------------------------------------
    metrics_port: int | None = field(
        default=None,
        metadata=env(
            "METRICS_PORT",
            "serve `/metrics` (Prometheus) on this port of `HOST` instead, and only there, without access "
            "control: for a scraper without credentials; unset: `/metrics` is on `PORT`, behind access control "
            "like every route but the health checks",
            _PORT,
            shown="(unset: on `PORT`)",
        ),
    )
    log_format: str = field(
        default="text",
        metadata=env(
            "LOG_FORMAT",
            "`text` (plain lines) or `json` (one JSON object per line: `time`, `level`, `logger`, `message`, "
            "and while serving a request its `request_id` and `user`; see *Monitoring*)",
            choice("text", "json"),
        ),
    )
    # -- end monitoring ----------------------------------------------------------------
