"""Session tokens: only ours, only until they expire, only for the password they were issued for."""

from __future__ import annotations

import base64

from realtime import sessions

SECRET = b"k" * 32


def test_a_token_reads_back_until_it_expires() -> None:
    token = sessions.issue(SECRET, "alice", "stamp", expires=1000)
    session = sessions.read(SECRET, token, now=999)
    assert session is not None
    assert (session.user, session.expires, session.stamp) == ("alice", 1000, "stamp")
    assert sessions.read(SECRET, token, now=1000) is None


def test_forged_or_altered_tokens_are_refused() -> None:
    token = sessions.issue(SECRET, "alice", "stamp", expires=1000)
    payload, signature = token.split(".")
    assert sessions.read(b"x" * 32, token, now=0) is None  # another secret
    mallory = base64.urlsafe_b64encode(b'["mallory",1000,"stamp"]').rstrip(b"=").decode()
    assert sessions.read(SECRET, f"{mallory}.{signature}", now=0) is None
    later = base64.urlsafe_b64encode(b'["alice",99999,"stamp"]').rstrip(b"=").decode()
    assert sessions.read(SECRET, f"{later}.{signature}", now=0) is None
    for junk in ("", ".", "a.b.c", f"{payload}.", "é.é", "x" * 5000, f"{payload}.{signature}x"):
        assert sessions.read(SECRET, junk, now=0) is None


def test_the_stamp_changes_with_the_password_hash() -> None:
    assert sessions.stamp(SECRET, "alice", b"$2b$04$a") != sessions.stamp(SECRET, "alice", b"$2b$04$b")
    assert sessions.stamp(SECRET, "alice", b"$2b$04$a") == sessions.stamp(SECRET, "alice", b"$2b$04$a")
