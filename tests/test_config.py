"""Settings from the environment; the CLI's one-line errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from realtime.cli import main
from realtime.config import ConfigError, Settings, load_settings, settings_table
from realtime.series import DEFAULT_SERIES

PG = {"POSTGRES_HOST": "db", "POSTGRES_PORT": "5432", "POSTGRES_USER": "u", "POSTGRES_DB": "d"}


def test_defaults() -> None:
    s = load_settings(PG)
    assert s.pg.host == "db"
    assert s.pg.port == 5432
    assert s.pg.password == ""
    assert s.port == 8888
    assert s.host == "0.0.0.0"
    assert s.series == DEFAULT_SERIES
    assert [x.name for x in s.series] == ["Temperature", "pH", "Dissolved oxygen", "Pressure"]
    assert s.data_timezone == "UTC"


def test_password_is_not_in_repr() -> None:
    s = load_settings({**PG, "POSTGRES_PASSWORD": "hunter2"})
    assert "hunter2" not in repr(s)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER, POSTGRES_DB"),
        ({**PG, "POSTGRES_PORT": "x"}, "POSTGRES_PORT"),
        ({**PG, "DATA_TIMEZONE": "Mars/Olympus"}, "DATA_TIMEZONE"),
        ({**PG, "POLL_INTERVAL": "0"}, "POLL_INTERVAL"),
        ({**PG, "PORT": "eighty"}, "PORT"),
        ({**PG, "SERIES_FILE": "/nonexistent.json"}, "SERIES_FILE"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_series_file_with_limits(tmp_path: Path) -> None:
    path = tmp_path / "series.json"
    path.write_text(
        json.dumps([{"key": "t1", "table": "T/1", "name": "Temp", "unit": "°C", "low": 36.5, "high": 37.5}]),
        encoding="utf-8",
    )
    s = load_settings({**PG, "SERIES_FILE": str(path)})
    assert s.series[0].low == 36.5
    assert s.series[0].label == "Temp (°C)"
    path.write_text(json.dumps([{"key": "Bad Key", "table": "x", "name": "x"}]), encoding="utf-8")
    with pytest.raises(ConfigError, match="lowercase"):
        load_settings({**PG, "SERIES_FILE": str(path)})


def test_run_app_without_database_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PG:
        monkeypatch.delenv(name, raising=False)
    assert main([]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("run-app: error: missing environment variables: POSTGRES_HOST")


def test_readme_documents_every_setting_with_its_default() -> None:
    """Datasette's rule: a setting missing from the docs fails the build. The
    README's table must be exactly what the declarations in config.py render."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "README.md is out of date: paste the output of python -m realtime.config"
    for f in dataclasses.fields(Settings):
        if f.name not in ("pg", "demo"):
            assert f"`{f.metadata['env']}`" in readme, f"{f.name} is not declared with an environment variable"


def test_the_password_may_come_from_a_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text(" s3cret with spaces \n", encoding="utf-8")
    settings = load_settings({**PG, "POSTGRES_PASSWORD_FILE": str(secret)})
    assert settings.pg.password == " s3cret with spaces "
    assert "s3cret" not in repr(settings)
    with pytest.raises(ConfigError, match="not both"):
        load_settings({**PG, "POSTGRES_PASSWORD_FILE": str(secret), "POSTGRES_PASSWORD": "x"})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings({**PG, "POSTGRES_PASSWORD_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("RECONCILE_HORIZON", "inf"),
        ("STORE_HORIZON", "inf"),
        ("POLL_INTERVAL", "inf"),
        ("POLL_INTERVAL", "nan"),
        ("POLL_INTERVAL", "0"),
        ("PORT", "70000"),
        ("PORT", "\\uff18\\uff18"),
        ("STORE_MAX_POINTS", "9" * 40),
        ("SWEEP_INTERVAL", "-5"),
        ("INTERPOLATION", "cubic"),
    ],
)
def test_every_setting_has_a_range(name: str, raw: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: RECONCILE_HORIZON=inf and STORE_HORIZON=inf raised OverflowError in a
    loop, POLL_INTERVAL=inf was accepted and the app never polled, and PORT=70000
    exited with three tracebacks. Each is now a one-line error at start-up."""
    value = raw.encode().decode("unicode_escape")
    with pytest.raises(ConfigError, match=name):
        load_settings({**PG, name: value})
    assert main_with_env({**PG, name: value}) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"run-app: error: {name}")
    assert err.count("\n") == 1


def main_with_env(environ: dict[str, str]) -> int:
    import os

    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(environ)
        return main([])
    finally:
        os.environ.clear()
        os.environ.update(saved)
