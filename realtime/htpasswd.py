"""htpasswd files with bcrypt hashes (what ``htpasswd -B`` writes), read with pyca's ``bcrypt``.

Only bcrypt is accepted: the other htpasswd formats (``$apr1$`` MD5, ``{SHA}``,
crypt) are fast to brute-force, so a file holding one is a configuration error
rather than a silent weakness. Hashes are never put in messages: errors name the
line and the user.
"""

from __future__ import annotations

import re
from pathlib import Path

import bcrypt

from realtime.errors import ConfigError

__all__ = ["check_password", "cost", "hash_password", "read_users"]

# $2y$ is what Apache's htpasswd writes; $2b$ and $2a$ are the same algorithm.
_BCRYPT = re.compile(rb"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")
# bcrypt reads at most 72 bytes; bcrypt 5 refuses longer passwords rather than truncating them.
MAX_PASSWORD_BYTES = 72


def read_users(path: Path, name: str = "AUTH_USERS_FILE") -> dict[str, bytes]:
    """User name to bcrypt hash; a ``ConfigError`` naming ``name`` when the file is unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name} {str(path)!r} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    users: dict[str, bytes] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        user = user.strip()
        if not sep or not user:
            raise ConfigError(f"{name} line {number}: expected user:hash")
        if user in users:
            raise ConfigError(f"{name} line {number}: user {user!r} appears twice")
        encoded = hashed.strip().encode("ascii", "replace")
        if not _BCRYPT.match(encoded):
            raise ConfigError(
                f"{name} line {number}: user {user!r} has no bcrypt hash (create the file with htpasswd -B)"
            )
        users[user] = encoded
    if not users:
        raise ConfigError(f"{name} {str(path)!r} holds no users")
    return users


def cost(hashed: bytes) -> int:
    """The bcrypt cost factor of a hash (log2 of its rounds)."""
    match = _BCRYPT.match(hashed)
    return int(match.group(1)) if match else 12


def check_password(password: str, hashed: bytes) -> bool:
    """Constant-time bcrypt check; CPU-heavy (tens to hundreds of ms): call it off the event loop."""
    secret = password.encode("utf-8")
    if len(secret) > MAX_PASSWORD_BYTES:
        return False
    try:
        return bcrypt.checkpw(secret, hashed)
    except ValueError:
        return False


def hash_password(password: str, rounds: int = 12) -> bytes:
    """A ``$2b$`` hash, as ``htpasswd -B -C rounds`` would write (with the ``$2y$`` tag)."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds))
