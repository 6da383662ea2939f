"""Who is asking: users from ``AUTH_USERS_FILE``, session cookies, and a trusted proxy's header.

bcrypt is slow on purpose (tens to hundreds of ms per check), so checks run on
worker threads, at most two at a time, never on the event loop. A credential
that passed is remembered for a minute (keyed by an HMAC of user and password
under a per-process key, never the password itself), so an API client sending
HTTP Basic on every poll costs one bcrypt check a minute, not one per request.
Identical checks in flight at once share one bcrypt run. Failed checks count
against the client's address (:class:`FailureLimit`).

The users file is re-read when it changes (looked at every few seconds): added,
removed or changed users take effect without a restart, and the cache of
verified credentials is dropped. A file that became unusable is reported and
the last good users are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread
from starlette.requests import HTTPConnection

from realtime import sessions
from realtime.config import Settings
from realtime.errors import ConfigError
from realtime.htpasswd import check_password, cost, hash_password, read_users
from realtime.throttle import FailureLimit

__all__ = ["SESSION_COOKIE", "Authenticator", "Identity", "Verdict", "identity", "set_identity"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "rt_session"
_SCOPE_KEY = "realtime.identity"
_CACHE_SECONDS = 60.0
_CACHE_MAX = 1024
_RECHECK_FILE_SECONDS = 2.0
_BCRYPT_THREADS = 2
_MAX_USER = 256


@dataclass(frozen=True)
class Identity:
    user: str
    via: Literal["session", "basic", "proxy"]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    retry_after: float = 0.0  # > 0: refused without checking, the address failed too often


def identity(conn: HTTPConnection) -> Identity | None:
    """The user the front door let in, or None (open mode, or a public route)."""
    found = conn.scope.get(_SCOPE_KEY)
    return found if isinstance(found, Identity) else None


def set_identity(scope: MutableMapping[str, Any], who: Identity) -> None:
    scope[_SCOPE_KEY] = who


@dataclass
class _Flight:
    done: anyio.Event = field(default_factory=anyio.Event)
    ok: bool = False


class Authenticator:
    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.users_file: Path | None = settings.auth_users_file
        self.proxy_header = settings.auth_proxy_header.encode("latin-1") if settings.auth_proxy_header else None
        self.lifetime = settings.session_lifetime
        self.failures = FailureLimit(settings.auth_max_failures, clock=clock)
        self.clock = clock
        self._secret = settings.session_secret or secrets.token_bytes(32)
        self._cache_key = secrets.token_bytes(32)
        self._cache: dict[bytes, float] = {}
        self._flights: dict[bytes, _Flight] = {}
        self._revoked: dict[str, int] = {}
        self._limiter: anyio.CapacityLimiter | None = None
        self._dummy: bytes | None = None
        self._users: dict[str, bytes] = {}
        self._file_id: tuple[int, int, int] | None = None
        self._checked_at = -_RECHECK_FILE_SECONDS
        self.bcrypt_runs = 0  # how many checks reached bcrypt (the rest came from the cache)
        if self.users_file is not None:
            self._reload(force=True)

    @property
    def has_form(self) -> bool:
        """Users sign in with a password here (else only a proxy vouches for them)."""
        return self.users_file is not None

    # -- the users file ------------------------------------------------------------

    def users(self) -> dict[str, bytes]:
        if self.users_file is not None and self.clock() - self._checked_at >= _RECHECK_FILE_SECONDS:
            self._reload()
        return self._users

    def _reload(self, *, force: bool = False) -> None:
        assert self.users_file is not None
        self._checked_at = self.clock()
        try:
            st = self.users_file.stat()
        except OSError as exc:
            if force:
                raise ConfigError(f"AUTH_USERS_FILE cannot be read: {exc.strerror}") from None
            log.error("AUTH_USERS_FILE cannot be read (%s); keeping the users read before", exc.strerror)
            return
        file_id = (st.st_ino, st.st_mtime_ns, st.st_size)
        if file_id == self._file_id:
            return
        try:
            users = read_users(self.users_file)
        except ConfigError as exc:
            if force:
                raise
            log.error("%s; keeping the users read before", exc)
            return
        if not force:
            log.info("AUTH_USERS_FILE changed: %d users", len(users))
        self._users, self._file_id = users, file_id
        self._cache.clear()

    # -- passwords -----------------------------------------------------------------

    async def verify(self, user: str, password: str, client: str) -> Verdict:
        """Checks a user name and password for ``client`` (an address), within its failure budget."""
        users = self.users()
        key = hmac.new(self._cache_key, user.encode() + b"\0" + password.encode(), hashlib.sha256).digest()
        now = self.clock()
        if self._cache.get(key, 0.0) > now:
            return Verdict(True)
        wait = self.failures.retry_after(client)
        if wait > 0:
            return Verdict(False, wait)
        flight = self._flights.get(key)
        if flight is not None:
            await flight.done.wait()
            return Verdict(flight.ok)
        flight = self._flights[key] = _Flight()
        try:
            flight.ok = await self._check(users.get(user), password)
        finally:
            del self._flights[key]
            flight.done.set()
        if flight.ok:
            self._remember(key, now)
        else:
            self.failures.failed(client)
        return Verdict(flight.ok)

    async def _check(self, hashed: bytes | None, password: str) -> bool:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(_BCRYPT_THREADS)
        self.bcrypt_runs += 1
        if hashed is None:
            # An unknown user costs as much as a known one, so timing does not tell who exists.
            if self._dummy is None:
                rounds = max((cost(h) for h in self._users.values()), default=12)
                self._dummy = await anyio.to_thread.run_sync(
                    hash_password, secrets.token_hex(16), rounds, limiter=self._limiter
                )
            await anyio.to_thread.run_sync(check_password, password, self._dummy, limiter=self._limiter)
            return False
        return await anyio.to_thread.run_sync(check_password, password, hashed, limiter=self._limiter)

    def _remember(self, key: bytes, now: float) -> None:
        if len(self._cache) >= _CACHE_MAX:
            self._cache = {k: t for k, t in self._cache.items() if t > now}
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
        self._cache[key] = now + _CACHE_SECONDS

    # -- sessions ------------------------------------------------------------------

    def issue_session(self, user: str) -> str:
        hashed = self.users()[user]
        expires = int(time.time() + self.lifetime)
        return sessions.issue(self._secret, user, sessions.stamp(self._secret, user, hashed), expires)

    def session_user(self, token: str) -> str | None:
        """The user of a valid cookie: signed by us, unexpired, not signed out, password unchanged."""
        now = time.time()
        session = sessions.read(self._secret, token, now)
        if session is None or session.signature in self._revoked:
            return None
        hashed = self.users().get(session.user)
        if hashed is None or not hmac.compare_digest(session.stamp, sessions.stamp(self._secret, session.user, hashed)):
            return None
        return session.user

    def revoke(self, token: str) -> None:
        """Signing out ends the token here too, not only in the browser (kept until it would expire)."""
        now = time.time()
        session = sessions.read(self._secret, token, now)
        if session is None:
            return
        self._revoked = {s: t for s, t in self._revoked.items() if t > now}
        self._revoked[session.signature] = session.expires

    # -- the proxy -----------------------------------------------------------------

    def proxy_user(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        """The user named by the proxy's header (call only for a trusted proxy), or None."""
        if self.proxy_header is None:
            return None
        for name, value in headers:
            if name == self.proxy_header:
                try:
                    user = value.decode("utf-8").strip()
                except UnicodeDecodeError:
                    return None
                if 0 < len(user) <= _MAX_USER and user.isprintable():
                    return user
                return None
        return None
