"""Logs as JSON lines (``LOG_FORMAT=json``), and the request id every request carries."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from realtime.accesslog import UserFilter, current_request, current_user, request_id
from realtime.htpasswd import hash_password
from realtime.logformat import JsonFormatter
from tests.support.http import basic, request
from tests.support.pg import TestDb
from tests.support.server import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "wonderland-42"
GENERATED = re.compile(r"[0-9a-f]{16}")
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def answers(port: int) -> bool:
    try:
        return request(port, "/healthz").status == 200
    except OSError:
        return False


class JsonApp:
    """``run-app`` with LOG_FORMAT=json and a users file, in a process of its own."""

    def __init__(self, db: TestDb, tmp_path: Path) -> None:
        series = [
            {"key": s.key, "table": s.table, "name": s.name, "unit": s.unit, "schema": db.schema} for s in db.series
        ]
        (tmp_path / "series.json").write_text(json.dumps(series), encoding="utf-8")
        (tmp_path / "users").write_text(f"alice:{hash_password(PASSWORD, rounds=4).decode()}\n", encoding="utf-8")
        self.port = free_port()
        pg = db.reader
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_")},
            "PYTHONPATH": str(ROOT),
            "POSTGRES_HOST": pg.host,
            "POSTGRES_PORT": str(pg.port),
            "POSTGRES_USER": pg.user,
            "POSTGRES_PASSWORD": pg.password,
            "POSTGRES_DB": pg.database,
            "SERIES_FILE": str(tmp_path / "series.json"),
            "AUTH_USERS_FILE": str(tmp_path / "users"),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "POLL_INTERVAL": "0.1",
            "LOG_FORMAT": "json",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "realtime.cli"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_until(lambda: answers(self.port) or self.proc.poll() is not None, timeout=60, interval=0.2)
        assert self.proc.poll() is None, self.stop()

    def stop(self) -> list[dict[str, Any]]:
        """Stop it as an orchestrator does (SIGTERM); every line it wrote, each parsed as one JSON object."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        records = [json.loads(line) for line in (out + err).splitlines() if line.strip()]
        assert all(isinstance(r, dict) for r in records)
        return records


@pytest.fixture
def json_app(db: TestDb, tmp_path: Path) -> Iterator[JsonApp]:
    app = JsonApp(db, tmp_path)
    try:
        yield app
    finally:
        if app.proc.poll() is None:
            app.proc.kill()
            app.proc.communicate()


def test_every_line_is_json_and_a_request_is_traced_by_its_id(json_app: JsonApp) -> None:
    port = json_app.port
    alice = basic("alice", PASSWORD)
    traced = request(port, "/api/series", headers={**alice, "X-Request-ID": "trace-42"})
    assert traced.status == 200
    assert traced.headers["x-request-id"] == "trace-42"
    # A foreign origin's post: the front door logs a warning while serving it, then the access line.
    refused = request(port, "/api/series", method="POST", headers={**alice, "Origin": "http://evil.example"}, body=b"")
    assert refused.status == 403
    refused_id = refused.headers["x-request-id"]
    assert GENERATED.fullmatch(refused_id)
    for forged in ("two words", "x" * 65, "\u00e9", "a\tb"):
        assert GENERATED.fullmatch(request(port, "/healthz", headers={"X-Request-ID": forged}).headers["x-request-id"])

    records = json_app.stop()
    for r in records:
        assert {"time", "level", "logger", "message"} <= r.keys(), r
        assert TIME.fullmatch(r["time"]), r
    assert any(r["logger"] == "uvicorn.error" for r in records), "uvicorn's own lines are JSON too"
    (access,) = [r for r in records if r.get("request_id") == "trace-42"]
    assert access["logger"] == "realtime.access"
    assert access["message"].startswith("GET /api/series 200 ")
    assert (access["user"], access["route"], access["status"], access["method"]) == ("alice", "/api/series", 200, "GET")
    assert isinstance(access["duration_ms"], float)
    assert access["duration_ms"] >= 0
    during = [r for r in records if r.get("request_id") == refused_id]
    assert [(r["logger"], r["level"]) for r in during] == [
        ("realtime.security", "WARNING"),
        ("realtime.access", "INFO"),
    ]
    assert during[1]["status"] == 403
    states = [r for r in records if r["logger"] == "realtime.poller" and "state" in r]
    assert ("ph", "empty") in {(r["series"], r["state"]) for r in states}
    assert "request_id" not in states[0], "a poller's line belongs to no request"
    assert not [r for r in records if PASSWORD in json.dumps(r)]


def test_a_record_with_a_traceback_is_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("realtime.x", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info())
    record.series = "ph"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert (data["message"], data["level"], data["logger"], data["series"]) == (
        "failed here",
        "ERROR",
        "realtime.x",
        "ph",
    )
    assert data["exception"].endswith("ValueError: boom")


def test_the_request_and_user_reach_every_record_written_meanwhile() -> None:
    record = logging.LogRecord("realtime.views.export", logging.INFO, __file__, 1, "export", None, None)
    tokens = current_user.set("alice"), current_request.set("trace-42")
    try:
        UserFilter().filter(record)
    finally:
        current_user.reset(tokens[0])
        current_request.reset(tokens[1])
    data = json.loads(JsonFormatter().format(record))
    assert (data["user"], data["request_id"]) == ("alice", "trace-42")
    UserFilter().filter(record)
    assert "user" not in json.loads(JsonFormatter().format(record))


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("trace-42", True),
        ("0b6f1c2e-5a8d-4f3b-9c1e-7d2a4b6c8e0f", True),
        ("Root=1-5f1a2b3c-abc/def+ghi=", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("two words", False),
        ("a\nb", False),
        ("é", False),
        ("", False),
        (None, False),
    ],
)
def test_an_incoming_request_id_is_kept_only_if_short_and_plain(given: str | None, kept: bool) -> None:
    assert (request_id(given) == given) is kept
    if not kept:
        assert GENERATED.fullmatch(request_id(given))
