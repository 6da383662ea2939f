"""The front door: every request and WebSocket handshake passes here before any route.

In order, it
1. works out who connected (:mod:`realtime.peer`, trusting proxies only from ``TRUSTED_PROXIES``);
2. refuses what does not belong: a request target over :data:`MAX_TARGET` bytes (414), a
   WebSocket handshake or form post from a foreign ``Origin`` (403: cross-site WebSocket
   hijacking and cross-site form posts); clients that send no ``Origin`` are not browsers;
3. when access control is on, admits a user (trusted proxy header, HTTP Basic, or the
   session cookie) or answers: browsers navigating to a page are sent to the sign-in page
   with a relative redirect, everything else gets 401 JSON (429 while an address is
   throttled);
4. adds the security headers to every response, its own refusals and 500s included;
5. writes the access log line (:mod:`realtime.accesslog`), and times the request for ``/metrics``
   by its route template (:mod:`realtime.metrics`).

Every request gets an id (the proxy's ``X-Request-ID`` if plain enough), which every log line
written while serving it carries and the response returns in ``X-Request-ID``.

It wraps the whole Starlette stack (``create_app`` sets it as the middleware stack), so
nothing, not even the server-error handler, answers around it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import orjson
from starlette.requests import cookie_parser
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from realtime.accesslog import current_request, current_user, request_id, route_label, safe, write
from realtime.auth import SESSION_COOKIE, Authenticator, Identity, set_identity
from realtime.config import Settings
from realtime.metrics import Metrics
from realtime.netparse import normalize_origin
from realtime.peer import PEER_KEY, Peer, header, resolve

__all__ = ["MAX_TARGET", "PUBLIC", "FrontDoor", "is_public", "security_headers"]

log = logging.getLogger(__name__)

# Longest request target (path and query) served; the app's own URLs are far shorter.
MAX_TARGET = 8192
# Open without a user: the health checks (for orchestrators) and what the sign-in page needs,
# its styles included (under the build's content-hashed names, see views/assets.py).
PUBLIC = frozenset({"/healthz", "/readyz", "/signin", "/signout"})
_PUBLIC_STYLES = re.compile(r"/static/(app|signin)(-[A-Z0-9]{8})?\.css")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REALM = b'Basic realm="Bioreactor dashboard", charset="UTF-8"'

Refusal = tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers every response carries; the CSP allows no inline script or style."""
    ancestors = settings.frame_ancestors
    csp = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "font-src 'self'",
            "manifest-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )
    headers = [
        (b"content-security-policy", csp.encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        # Not no-referrer: with it, browsers send "Origin: null" on our own form posts.
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
    ]
    # X-Frame-Options for browsers without CSP; it cannot name origins, so a list gets none.
    legacy = {"'none'": b"DENY", "'self'": b"SAMEORIGIN"}.get(ancestors.lower())
    if legacy is not None:
        headers.append((b"x-frame-options", legacy))
    if settings.hsts_seconds is not None:
        headers.append((b"strict-transport-security", f"max-age={settings.hsts_seconds}".encode()))
    return headers


def is_public(path: str) -> bool:
    """Served without a user."""
    return path in PUBLIC or _PUBLIC_STYLES.fullmatch(path) is not None


def _json(status: int, error: str, parameter: str | None = None, **extra: Any) -> Refusal:
    body: dict[str, Any] = {"error": error}
    if parameter is not None:
        body["parameter"] = parameter
    body.update(extra)
    return status, body, [(b"cache-control", b"no-store")]


class FrontDoor:
    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        auth: Authenticator | None,
        metrics: Metrics | None = None,
        routes: Sequence[BaseRoute] = (),
    ) -> None:
        self.app = app
        self.auth = auth
        self.metrics = metrics
        self.routes = routes
        self.trusted = settings.trusted_proxies
        self.allowed_origins = frozenset(settings.allowed_origins)
        self.headers = security_headers(settings)
        self.root = settings.root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if self.root:
            scope = _strip_root(scope, self.root)
        peer = resolve(scope, self.trusted)
        scope[PEER_KEY] = peer
        status = 0
        rid = request_id(header(scope["headers"], b"x-request-id"))
        rid_header = (b"x-request-id", rid.encode("ascii"))

        async def respond(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind in ("http.response.start", "websocket.http.response.start"):
                status = message["status"]
                message = {**message, "headers": [*self._with_headers(message.get("headers", ())), rid_header]}
            elif kind == "websocket.accept":
                status = 101
                message = {**message, "headers": [*message.get("headers", ()), rid_header]}
            elif kind == "websocket.close" and status == 0:
                status = 403  # closed before accepting: the server answers 403
            await send(message)

        token, rid_token = current_user.set(None), current_request.set(rid)
        try:
            refusal = self._refuse(scope, peer)
            if refusal is None and self.auth is not None and not is_public(scope["path"]):
                refusal = await self._admit(self.auth, scope, peer)
            if refusal is None:
                await self.app(scope, receive, respond)
            else:
                await _deliver(scope, respond, refusal)
        finally:
            seconds = time.perf_counter() - started
            target = scope.get("raw_path", b"").decode("latin-1") or scope["path"]
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            method = scope.get("method", "GET")
            route = route_label(scope, self.routes)
            write(method, target, status or 500, seconds * 1000, current_user.get(), peer.client, route)
            # An accepted WebSocket's duration is its viewer's stay, not a response time: the viewer gauges tell.
            if self.metrics is not None and status != 101:
                self.metrics.request(route, method, status or 500, seconds)
            current_request.reset(rid_token)
            current_user.reset(token)

    def _with_headers(self, headers: Sequence[Sequence[bytes]]) -> list[tuple[bytes, bytes]]:
        # The server header says nothing: drop any, and never add one.
        out = [(bytes(k), bytes(v)) for k, v in headers if bytes(k).lower() != b"server"]
        present = {k.lower() for k, _ in out}
        out.extend(h for h in self.headers if h[0] not in present)
        return out

    def _refuse(self, scope: Scope, peer: Peer) -> Refusal | None:
        query = scope.get("query_string", b"")
        if len(scope.get("raw_path", b"")) + len(query) + (1 if query else 0) > MAX_TARGET:
            return _json(414, f"the request target is longer than {MAX_TARGET} bytes", "url")
        if scope["path"] == "" and scope["type"] == "http":
            # ROOT_PATH itself, passed on unstripped: its page is at ROOT_PATH/, where relative URLs resolve.
            return 308, {}, [(b"location", f"{self.root}/".encode("ascii")), (b"cache-control", b"no-store")]
        origin = header(scope["headers"], b"origin")
        if origin is not None and (scope["type"] == "websocket" or scope["method"] not in _SAFE_METHODS):
            normal = normalize_origin(origin)
            if normal is None or (normal != peer.origin and normal not in self.allowed_origins):
                log.warning("refused a request from origin %s (client %s)", safe(origin, 200), safe(peer.client, 64))
                return _json(403, "cross-origin request refused: this origin is not allowed", "Origin")
        return None

    async def _admit(self, auth: Authenticator, scope: Scope, peer: Peer) -> Refusal | None:
        headers = scope["headers"]
        if peer.proxied and (user := auth.proxy_user(headers)) is not None:
            _let_in(scope, Identity(user, "proxy"))
            return None
        authorization = header(headers, b"authorization")
        if authorization is not None:
            return await self._basic(auth, scope, peer, authorization)
        token = cookie_parser(header(headers, b"cookie") or "").get(SESSION_COOKIE)
        if token and auth.has_form and (user := auth.session_user(token)) is not None:
            _let_in(scope, Identity(user, "session"))
            return None
        return self._challenge(auth, scope)

    async def _basic(self, auth: Authenticator, scope: Scope, peer: Peer, authorization: str) -> Refusal | None:
        if not auth.has_form:
            return self._challenge(auth, scope)  # no passwords here: only the proxy vouches for users
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            return self._unauthorized(auth, scope, "only HTTP Basic credentials are accepted here", "Authorization")
        try:
            user, sep, password = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            return self._unauthorized(auth, scope, "malformed Basic credentials", "Authorization")
        if not sep or not user:
            return self._unauthorized(auth, scope, "malformed Basic credentials", "Authorization")
        verdict = await auth.verify(user, password, peer.client)
        if verdict.ok:
            _let_in(scope, Identity(user, "basic"))
            return None
        if verdict.retry_after > 0:
            return _throttled(verdict.retry_after)
        return self._unauthorized(auth, scope, "wrong user name or password")

    def _challenge(self, auth: Authenticator, scope: Scope) -> Refusal:
        headers = scope["headers"]
        mode = header(headers, b"sec-fetch-mode")
        navigating = mode == "navigate" or (mode is None and "text/html" in (header(headers, b"accept") or ""))
        page = scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and not scope["path"].startswith("/api/")
        if navigating and page and auth.has_form:
            target = scope.get("raw_path", b"/").decode("latin-1")
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            # Relative, never built from Host: a forged Host cannot send the browser elsewhere.
            location = self.root + ("/signin" if target == "/" else "/signin?next=" + quote(target, safe=""))
            return 303, {}, [(b"location", location.encode("ascii")), (b"cache-control", b"no-store")]
        return self._unauthorized(auth, scope, "sign-in required")

    def _unauthorized(self, auth: Authenticator, scope: Scope, error: str, parameter: str | None = None) -> Refusal:
        refusal = _json(401, error, parameter)
        # Scripts on a page (fetch, WebSocket) get no challenge: it would pop the browser's own dialog.
        mode = header(scope["headers"], b"sec-fetch-mode")
        if auth.has_form and mode in (None, "navigate"):
            refusal[2].append((b"www-authenticate", _REALM))
        return refusal


def _strip_root(scope: Scope, root: str) -> Scope:
    """The request as the routes know it: a proxy that passes ``ROOT_PATH`` on is as one that strips it."""
    path: str = scope["path"]
    if path != root and not path.startswith(root + "/"):
        return scope
    raw: bytes = scope.get("raw_path") or path.encode("latin-1")
    prefix = root.encode("latin-1")
    return {**scope, "path": path[len(root) :], "raw_path": raw[len(prefix) :] if raw.startswith(prefix) else raw}


def _let_in(scope: Scope, who: Identity) -> None:
    set_identity(scope, who)
    current_user.set(who.user)


def _throttled(retry_after: float) -> Refusal:
    seconds = max(1, round(retry_after))
    refusal = _json(429, f"too many failed sign-ins from this address: try again in {seconds} s", retry_after_s=seconds)
    refusal[2].append((b"retry-after", str(seconds).encode()))
    return refusal


async def _deliver(scope: Scope, send: Send, refusal: Refusal) -> None:
    status, body, headers = refusal
    content = orjson.dumps(body) if body else b""
    if body:
        headers = [*headers, (b"content-type", b"application/json")]
    headers = [*headers, (b"content-length", str(len(content)).encode())]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
    elif "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": content})
    else:
        await send({"type": "websocket.close", "code": 1008})
