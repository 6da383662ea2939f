"""htpasswd files: bcrypt only, errors that name the line and never the hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime.config import ConfigError, load_settings
from realtime.htpasswd import MAX_PASSWORD_BYTES, check_password, hash_password, read_users

PG = {"POSTGRES_HOST": "db", "POSTGRES_PORT": "5432", "POSTGRES_USER": "u", "POSTGRES_DB": "d"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "users"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_2y_and_2b_hashes_as_htpasswd_writes_them(tmp_path: Path) -> None:
    b = hash_password("s3cret", rounds=4)
    y = b.replace(b"$2b$", b"$2y$")  # Apache's htpasswd -B tag
    path = write(tmp_path, f"# operators\nalice:{y.decode()}\n\nbob:{b.decode()}\n")
    users = read_users(path)
    assert sorted(users) == ["alice", "bob"]
    assert check_password("s3cret", users["alice"])
    assert check_password("s3cret", users["bob"])
    assert not check_password("s3cret!", users["alice"])
    assert not check_password("x" * (MAX_PASSWORD_BYTES + 1), users["alice"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alice:$apr1$abc$0123456789abcdefghijkl\n", "line 1: user 'alice' has no bcrypt hash"),
        ("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "no bcrypt hash"),
        ("just-a-name\n", "line 1: expected user:hash"),
        ("# nobody\n", "holds no users"),
    ],
)
def test_unusable_files_are_one_line_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("$", r"\$").replace("{", r"\{")):
        read_users(write(tmp_path, text))


def test_a_user_twice_is_an_error_and_the_hash_is_never_shown(tmp_path: Path) -> None:
    hashed = hash_password("pw", rounds=4).decode()
    with pytest.raises(ConfigError) as caught:
        read_users(write(tmp_path, f"alice:{hashed}\nalice:{hashed}\n"))
    assert "line 2" in str(caught.value)
    assert hashed not in str(caught.value)


def test_the_setting_fails_fast_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="AUTH_USERS_FILE"):
        load_settings({**PG, "AUTH_USERS_FILE": str(tmp_path / "missing")})
    hashed = hash_password("pw", rounds=4).decode()
    settings = load_settings({**PG, "AUTH_USERS_FILE": str(write(tmp_path, f"alice:{hashed}\n"))})
    assert settings.auth_required
