"""The sign-in page, its form and sign-out; routed only when ``AUTH_USERS_FILE`` is set.

A plain server-rendered form (no script), posted to ``signin`` (relative, so the
page works under ``ROOT_PATH``). On success the browser gets a signed session
cookie (HttpOnly, SameSite=Lax, Secure whenever the browser would keep it: over
HTTPS, and on localhost) for ``ROOT_PATH`` and a redirect, never built from
``Host``, to where it was going. The front door has already refused posts from
foreign origins (login CSRF). Failed sign-ins count against the client's
address; past ``AUTH_MAX_FAILURES`` in 5 minutes the form answers 429.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from jinja2 import TemplateNotFound
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from realtime.accesslog import current_user
from realtime.auth import SESSION_COOKIE, Authenticator
from realtime.context import context
from realtime.errors import ApiError
from realtime.peer import Peer, is_loopback, peer_of
from realtime.views.assets import asset_urls

__all__ = ["routes", "safe_next"]

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 4096
_FORM = "application/x-www-form-urlencoded"


def routes() -> list[BaseRoute]:
    return [
        Route("/signin", page, methods=["GET", "HEAD"]),
        Route("/signin", submit, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
    ]


def safe_next(raw: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another host."""
    if not raw or not raw.startswith("/") or raw.startswith(("//", "/\\")) or not raw.isprintable():
        return "/"
    if len(raw) > 2000 or raw.startswith(("/signin", "/signout")):
        return "/"
    return raw


def _auth(request: Request) -> Authenticator:
    auth = context(request).auth
    assert auth is not None, "sign-in routes exist only with AUTH_USERS_FILE"
    return auth


def _cookie_secure(peer: Peer) -> bool:
    # Browsers drop a Secure cookie set over plain HTTP, except on localhost.
    return peer.secure or is_loopback(peer.host)


def _root(request: Request) -> str:
    """``ROOT_PATH``: what redirects and the cookie path start with (the routes see paths without it)."""
    return context(request).settings.root_path


def _render(
    request: Request, next_path: str, *, status: int = 200, error: str | None = None, user: str = ""
) -> Response:
    try:
        template = context(request).templates.get_template("signin.html")
    except TemplateNotFound:
        return HTMLResponse("<h1>Frontend not built</h1><p>Run <code>scripts/build-frontend</code>.</p>", 503)
    peer = peer_of(request.scope)
    html = template.render(
        next=next_path,
        error=error,
        user=user,
        insecure=not _cookie_secure(peer),
        assets=asset_urls(),
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


async def page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    token = request.cookies.get(SESSION_COOKIE)
    if token and _auth(request).session_user(token) is not None:
        return RedirectResponse(_root(request) + next_path, status_code=303)
    return _render(request, next_path)


async def _read_form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != _FORM:
        raise ApiError(415, f"the sign-in form must be posted as {_FORM}", "Content-Type")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise ApiError(413, f"the sign-in form may be at most {MAX_FORM_BYTES} bytes", "body")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=8)
    except UnicodeDecodeError:
        raise ApiError(400, "the sign-in form is not UTF-8", "body") from None
    except ValueError:
        raise ApiError(400, "the sign-in form has too many fields", "body") from None
    return {name: values[0] for name, values in fields.items()}


async def submit(request: Request) -> Response:
    auth = _auth(request)
    form = await _read_form(request)
    user, password = form.get("user", "").strip(), form.get("password", "")
    next_path = safe_next(form.get("next"))
    if not user or not password:
        return _render(request, next_path, status=400, error="Enter your user name and password.", user=user)
    peer = peer_of(request.scope)
    verdict = await auth.verify(user, password, peer.client)
    if verdict.retry_after > 0:
        minutes = max(1, round(verdict.retry_after / 60))
        response = _render(
            request,
            next_path,
            status=429,
            error=f"Too many failed sign-ins from this address. Try again in {minutes} min.",
            user=user,
        )
        response.headers["Retry-After"] = str(max(1, round(verdict.retry_after)))
        return response
    if not verdict.ok:
        # Name the user only if it exists: a password typed into the user field must not reach the log.
        known = user if user in auth.users() else "(unknown)"
        log.warning("sign-in failed for %s from %s", known, peer.client)
        return _render(request, next_path, status=401, error="Wrong user name or password.", user=user)
    current_user.set(user)  # the access line of this post names who signed in
    log.info("signed in: %s from %s", user, peer.client)
    response = RedirectResponse(_root(request) + next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        auth.issue_session(user),
        max_age=int(auth.lifetime),
        path=_root(request) or "/",
        secure=_cookie_secure(peer),
        httponly=True,
        samesite="lax",
    )
    return response


async def signout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        _auth(request).revoke(token)
    response = RedirectResponse(_root(request) + "/signin", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE,
        path=_root(request) or "/",
        secure=_cookie_secure(peer_of(request.scope)),
        httponly=True,
        samesite="lax",
    )
    return response
