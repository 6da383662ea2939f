"""The dashboard page and the health routes."""

from __future__ import annotations

import time

import orjson
from jinja2 import TemplateNotFound
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from realtime.auth import identity
from realtime.context import Context, context
from realtime.views.assets import asset_urls
from realtime.views.responses import JSON
from realtime.views.seriesinfo import series_infos

__all__ = ["healthz", "index", "readyz"]


def boot(ctx: Context) -> dict[str, object]:
    s = ctx.settings
    return {
        "demo": s.demo,
        # Relative to the page, like every URL it uses: it works under any path prefix (ROOT_PATH).
        "ws_path": "ws",
        "default_points": s.default_points,
        "max_points": s.max_points,
        "data_timezone": s.data_timezone,
        "series": [
            {"key": x.key, "name": x.name, "unit": x.unit, "low": x.low, "high": x.high, "stale_after": x.stale_after}
            for x in s.series
        ],
        # What /api/series answers now: the page need not ask before loading the charts.
        "info": series_infos(ctx),
    }


async def index(request: Request) -> Response:
    ctx = context(request)
    try:
        template = ctx.templates.get_template("index.html")
    except TemplateNotFound:
        return HTMLResponse(
            "<h1>Frontend not built</h1><p>Run <code>scripts/build-frontend</code> or reinstall the package.</p>",
            status_code=503,
        )
    # No "<" at all inside the <script>: "</script" would end it early, and "<!--<script" (a series
    # name from SERIES_FILE, say) would swallow the rest of the page. \u003c is the same JSON string.
    boot_json = orjson.dumps(boot(ctx), option=orjson.OPT_SERIALIZE_NUMPY).decode().replace("<", "\\u003c")
    who = identity(request)
    html = template.render(
        boot_json=boot_json,
        demo=ctx.settings.demo,
        assets=asset_urls(),
        user=who.user if who else None,
        signout=who is not None and who.via == "session",
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


async def healthz(request: Request) -> Response:
    return JSON({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when the database answers and every poller is making rounds; else 503, saying why."""
    ctx = context(request)
    now = time.monotonic()
    stall = ctx.settings.poll_stall_after
    series = {}
    for key, s in ctx.store.series.items():
        age = now - s.polled_at
        series[key] = {"state": s.state, "error": s.error, "last_poll_s": round(age, 1), "stalled": age > stall}
    stalled = sorted(k for k, v in series.items() if v["stalled"])
    reasons = []
    if ctx.health.state != "up":
        reasons.append(
            f"database {ctx.health.state}" + (f" ({ctx.health.kind}: {ctx.health.error})" if ctx.health.error else "")
        )
    if stalled:
        reasons.append(f"no poll round for over {stall:g} s: {', '.join(stalled)}")
    if ctx.fatal is not None:
        reasons.append(f"a background task failed: {ctx.fatal}")
    body = {
        "ready": not reasons,
        "reason": "; ".join(reasons) or None,
        "database": ctx.health.state,
        "kind": ctx.health.kind,
        "since": ctx.health.snapshot()["since"],
        "error": ctx.health.error,
        "retry_in_s": None if ctx.health.retry_in is None else round(ctx.health.retry_in, 1),
        "series": series,
    }
    return JSON(body, status_code=200 if not reasons else 503)
