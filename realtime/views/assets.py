"""The built scripts and styles: their content-hashed names, and how they are served.

``frontend/build.mjs`` names each output after its content (``app-XXXXXXXX.js``),
writes a gzip twin of it (``.gz``) and ``manifest.json``, which maps the plain
names the templates use to the hashed ones. A hashed name never changes content,
so browsers may keep it for a year without asking again; the page that names
them is ``no-cache``, so a new build is picked up on the next visit.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import anyio
from starlette.datastructures import Headers
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware, GZipResponder
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from realtime.context import PACKAGE_DIR

__all__ = ["IMMUTABLE", "STATIC_DIR", "Assets", "Compression", "accepts_gzip", "asset_urls", "is_hashed"]

STATIC_DIR = PACKAGE_DIR / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
# What build.mjs's entryNames "[name]-[hash]" gives: esbuild's hashes are 8 characters of A-Z and 0-9.
_HASHED = re.compile(r"[A-Za-z0-9_]+-[A-Z0-9]{8}\.(js|css)")

_manifest: tuple[float, dict[str, str]] = (-1.0, {})


def is_hashed(name: str) -> bool:
    """A built file named after its content."""
    return _HASHED.fullmatch(name) is not None


def asset_urls(directory: Path = STATIC_DIR) -> dict[str, str]:
    """Plain name → URL relative to the page (``static/app-XXXXXXXX.js``), from manifest.json.

    Read again whenever the file changes (``scripts/build-frontend --watch``); one
    ``stat`` per page otherwise. A missing manifest gives the plain names.
    """
    global _manifest
    path = directory / "manifest.json"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return {name: f"static/{name}" for name in ("app.js", "app.css", "signin.css")}
    if mtime != _manifest[0]:
        names = json.loads(path.read_text(encoding="utf-8"))
        _manifest = (mtime, {plain: f"static/{hashed}" for plain, hashed in names.items()})
    return _manifest[1]


def accepts_gzip(scope: Scope) -> bool:
    """The client takes gzip: ``gzip`` or ``*`` in ``Accept-Encoding``, not with ``q=0``."""
    for part in Headers(scope=scope).get("accept-encoding", "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class Assets(StaticFiles):
    """StaticFiles with the build's gzip twins and cache headers by name."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        name = os.path.basename(path)
        if isinstance(response, FileResponse) and response.status_code == 200:
            response.headers["Vary"] = "Accept-Encoding"
            if accepts_gzip(scope):
                response = await self._gzipped(response) or response
        response.headers["Cache-Control"] = IMMUTABLE if is_hashed(name) else "no-cache"
        return response

    async def _gzipped(self, plain: FileResponse) -> FileResponse | None:
        twin = f"{plain.path}.gz"
        try:
            stat_result = await anyio.to_thread.run_sync(os.stat, twin)
        except OSError:
            return None
        return FileResponse(
            twin,
            stat_result=stat_result,
            media_type=plain.media_type,
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )


class Compression(GZipMiddleware):
    """Gzips the page and JSON answers for clients that take it (level 6: nearly level 9's size
    for a third of its time; large bodies are compressed in a worker thread).

    Not the CSV export: it streams at the database's pace and compressing it would cost
    the export its speed. Scripts and styles go out as the build's gzip twins, already
    marked as encoded, so they are not compressed again. Starlette's own check would take
    ``gzip;q=0`` for a yes: this one reads the header.
    """

    def __init__(self, app: ASGIApp) -> None:
        excluded = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "text/csv")
        super().__init__(app, minimum_size=1024, compresslevel=6, exclude_content_types=excluded)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        responder = GZipResponder(
            self.app,
            self.minimum_size,
            compresslevel=self.compresslevel,
            thread_minimum_size=self.thread_minimum_size,
            exclude_content_types=self.exclude_content_types,
        )
        await responder(scope, receive, send)
