"""Signed sign-in tokens for the session cookie: who, until when, and for which password.

A token is ``payload.signature``: the payload is base64url JSON ``[user,
expires, stamp]``, the signature an HMAC-SHA256 over it with the session
secret. ``stamp`` is an HMAC of the user's stored hash, so changing a user's
password (or removing the user) ends that user's sessions. Nothing in a token
is secret; it only cannot be forged or extended.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

__all__ = ["Session", "issue", "read", "stamp"]

_MAX_TOKEN = 1024


@dataclass(frozen=True)
class Session:
    user: str
    expires: int  # epoch seconds
    stamp: str
    signature: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, b"session\0" + payload.encode("ascii"), hashlib.sha256).digest())


def stamp(secret: bytes, user: str, hashed: bytes) -> str:
    """A short fingerprint of the user's stored hash; the hash itself never leaves the server."""
    return _b64(hmac.new(secret, b"stamp\0" + user.encode() + b"\0" + hashed, hashlib.sha256).digest()[:12])


def issue(secret: bytes, user: str, user_stamp: str, expires: int) -> str:
    payload = _b64(json.dumps([user, expires, user_stamp], separators=(",", ":")).encode())
    return f"{payload}.{_sign(secret, payload)}"


def read(secret: bytes, token: str, now: float) -> Session | None:
    """The session in a token, or None if it is malformed, forged or expired."""
    if len(token) > _MAX_TOKEN or token.count(".") != 1:
        return None
    payload, signature = token.split(".")
    try:
        if not hmac.compare_digest(signature.encode("ascii"), _sign(secret, payload).encode("ascii")):
            return None
        user, expires, user_stamp = json.loads(_unb64(payload))
    except (UnicodeError, binascii.Error, ValueError, TypeError):
        return None
    if not isinstance(user, str) or not isinstance(expires, int) or not isinstance(user_stamp, str):
        return None
    if expires <= now:
        return None
    return Session(user, expires, user_stamp, signature)
