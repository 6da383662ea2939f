"""``/metrics`` on a real server, scraped and parsed, its numbers checked against what the test did."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from realtime.accesslog import UserFilter
from realtime.htpasswd import hash_password
from realtime.metrics import Metrics
from realtime.monitor import MetricsServer
from tests.support.http import basic, request
from tests.support.pg import PgServer, TestDb, create_database, create_schema, drop_database, run
from tests.support.server import LiveServer, free_port, serve, wait_until
from tests.support.wsclient import StalledViewer, Viewer

T0 = datetime(2026, 6, 1)
KINDS = ("unreachable", "refused", "too-many-connections", "auth", "no-database")


class Scrape:
    """One scrape's samples, looked up by name and labels."""

    def __init__(self, text: str) -> None:
        self.samples: list[Sample] = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def get(self, name: str, **labels: str) -> float | None:
        found = [s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items()]
        assert len(found) <= 1, f"{name} {labels} is ambiguous: {found}"
        return found[0] if found else None

    def __call__(self, name: str, **labels: str) -> float:
        value = self.get(name, **labels)
        assert value is not None, f"no sample {name} {labels}"
        return value

    def labels(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name}


def scrape(port: int, headers: dict[str, str] | None = None) -> Scrape:
    reply = request(port, "/metrics", headers=headers)
    assert reply.status == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape(reply.text)


def eventually(port: int, condition: str, check: object, timeout: float = 30.0) -> Scrape:
    """Scrape until ``check(scrape)`` holds (what a test did reaches the app's state in its own time)."""
    last: list[Scrape] = []

    def holds() -> bool:
        last[:] = [scrape(port)]
        return bool(check(last[0]))  # type: ignore[operator]

    try:
        wait_until(holds, timeout=timeout, interval=0.1)
    except AssertionError:
        raise AssertionError(f"/metrics never showed {condition}") from None
    return last[0]


def users_file(path: Path) -> Path:
    path.write_text(f"alice:{hash_password('wonderland-42', rounds=4).decode()}\n", encoding="utf-8")
    return path


ALICE = basic("alice", "wonderland-42")


@pytest.fixture
def live(db: TestDb) -> Iterator[LiveServer]:
    with serve(db.settings(client_buffer_bytes=8 << 20, send_timeout=1.0)) as server:
        yield server


def test_rows_and_late_rows_are_counted_per_series(live: LiveServer, db: TestDb) -> None:
    first = eventually(
        live.port, "every series empty", lambda m: m("realtime_series_state", series="ph", state="empty")
    )
    assert first("realtime_series_rows_ingested_total", series="ph") == 0
    run(db.insert("ph", [(T0 + timedelta(seconds=i), 7.0) for i in range(5)]))
    now = eventually(live.port, "5 rows of ph", lambda m: m("realtime_series_rows_ingested_total", series="ph") == 5)
    assert now("realtime_series_late_rows_total", series="ph") == 0
    assert now("realtime_series_rows_in_memory", series="ph") == 5
    assert now("realtime_series_rows_ingested_total", series="temperature") == 0
    # One-hot: ph is ok now, temperature still empty.
    assert {s: now("realtime_series_state", series="ph", state=s) for s in ("ok", "empty", "error")} == {
        "ok": 1,
        "empty": 0,
        "error": 0,
    }
    assert now("realtime_series_state", series="temperature", state="empty") == 1
    assert now("realtime_series_poll_duration_seconds_count", series="ph") > 0
    assert 0 <= now("realtime_series_poll_age_seconds", series="ph") < 60
    assert 0 <= now("realtime_series_round_age_seconds", series="ph") < 60
    # Two rows behind the newest: found by the reconciliation, counted as late and as ingested.
    run(db.insert("ph", [(T0 + timedelta(seconds=1.5), 7.1), (T0 + timedelta(seconds=2.5), 7.2)]))
    late = eventually(live.port, "2 late rows", lambda m: m("realtime_series_late_rows_total", series="ph") == 2)
    assert late("realtime_series_rows_ingested_total", series="ph") == 7


def test_viewers_frames_and_a_dropped_viewer(live: LiveServer, db: TestDb, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(UserFilter())  # as run-app's handler has: request ids on records
    viewer = Viewer(live.ws_url)
    viewer.wait_for(lambda v: bool(v.of_type("hello")))
    eventually(live.port, "one viewer", lambda m: m("realtime_viewers") == 1)
    run(db.insert("ph", [(T0, 7.0)]))
    viewer.wait_for(lambda v: bool(v.rows.get("ph")))
    after = eventually(live.port, "a frame", lambda m: m("realtime_frames_sent_total") >= 1)
    assert after("realtime_viewer_backlog_bytes") >= 0
    assert after("realtime_viewers_dropped_total", reason="frozen") == 0
    assert after("realtime_viewers_dropped_total", reason="overflow") == 0
    viewer.close()
    eventually(live.port, "no viewer", lambda m: m("realtime_viewers") == 0)
    wait_until(lambda: any(r.getMessage().startswith("GET /ws ") for r in caplog.records))
    caplog.clear()  # from here on, the only /ws access line is the stalled viewer's

    stalled = StalledViewer("127.0.0.1", live.port)
    eventually(live.port, "the stalled viewer", lambda m: m("realtime_viewers") == 1)
    for k in range(6):
        run(
            db.execute(
                f"INSERT INTO {db.qualified('do')} "
                "SELECT $1::timestamp + i * interval '1 millisecond', 40.0 FROM generate_series(0, 99999) i",
                T0 + timedelta(hours=k + 1),
            )
        )
        if live.ctx.hub.dropped:
            break

    def dropped(m: Scrape) -> bool:
        return sum(m("realtime_viewers_dropped_total", reason=r) for r in ("frozen", "overflow")) == 1

    final = eventually(live.port, "one dropped viewer", dropped)
    (reason,) = live.ctx.hub.dropped
    assert final("realtime_viewers_dropped_total", reason=reason) == 1
    stalled.close()
    # One line for the drop, written on the viewer's own connection: its request id is the /ws access line's.
    wait_until(lambda: any(r.getMessage().startswith("GET /ws ") for r in caplog.records))
    drops = [r for r in caplog.records if r.name == "realtime.hub" and r.getMessage().startswith("dropped a viewer")]
    access = next(r for r in caplog.records if r.getMessage().startswith("GET /ws "))
    assert [(r.getMessage().split(")")[0], getattr(r, "reason", None)) for r in drops] == [
        (f"dropped a viewer ({reason}", reason)
    ]
    assert getattr(drops[0], "request_id", None) == getattr(access, "request_id", "?")


def test_request_durations_by_route_template(live: LiveServer) -> None:
    for _ in range(5):
        assert request(live.port, "/api/series/ph/data").status == 200
    for key in ("nope", "other", "third"):
        assert request(live.port, f"/api/series/{key}/data").status == 404
    assert request(live.port, "/no/such/page").status == 404
    route = "/api/series/{key}/data"

    def counted(m: Scrape) -> bool:
        count = "realtime_http_request_duration_seconds_count"
        return m.get(count, route=route, code="200") == 5 and m.get(count, route=route, code="404") == 3

    after = eventually(live.port, "5 + 3 requests", counted)
    assert after("realtime_http_request_duration_seconds_count", route="unmatched", code="404") == 1
    assert after("realtime_http_request_duration_seconds_bucket", route=route, code="200", le="+Inf") == 5
    # Route templates only, never a raw path: the label's values stay bounded.
    routes = after.labels("realtime_http_request_duration_seconds_count", "route")
    assert routes <= {route, "unmatched", "/metrics"}, routes


def test_a_database_outage_shows_as_down_with_its_kind(restartable_server: PgServer) -> None:
    admin = run(create_database(restartable_server.admin))
    db = run(create_schema(admin, restartable_server))
    try:
        with serve(db.settings()) as live:
            up = eventually(live.port, "the database up", lambda m: m("realtime_database_up") == 1)
            assert [up("realtime_database_outage", kind=k) for k in KINDS] == [0] * len(KINDS)
            restartable_server.stop()
            down = eventually(live.port, "the database down", lambda m: m("realtime_database_up") == 0)
            # One scrape is one consistent reading (the kind may change while it stays down: read it there).
            outage = {k: down("realtime_database_outage", kind=k) for k in KINDS}
            assert sorted(outage.values()) == [0] * (len(KINDS) - 1) + [1], outage
            restartable_server.start()
            back = eventually(live.port, "the database back", lambda m: m("realtime_database_up") == 1, timeout=60)
            assert sum(back("realtime_database_outage", kind=k) for k in KINDS) == 0
    finally:
        restartable_server.start()
        run(drop_database(restartable_server.admin, admin.database))


def test_with_access_control_metrics_on_the_main_port_need_a_user(db: TestDb, tmp_path: Path) -> None:
    with serve(db.settings(auth_users_file=users_file(tmp_path / "users"))) as live:
        refused = request(live.port, "/metrics")
        assert refused.status == 401
        # The refusal was not routed, but counts under the route it asked for.
        after = scrape(live.port, headers=ALICE)
        assert after("realtime_http_request_duration_seconds_count", route="/metrics", code="401") == 1


def test_a_metrics_port_serves_metrics_alone_and_without_credentials(db: TestDb, tmp_path: Path) -> None:
    side = free_port()
    settings = db.settings(host="127.0.0.1", metrics_port=side, auth_users_file=users_file(tmp_path / "users"))
    with serve(settings) as live:
        assert scrape(side)("realtime_viewers") == 0  # no credentials needed there
        assert request(live.port, "/metrics", headers=ALICE).status == 404
        assert request(live.port, "/api/series", headers=ALICE).status == 200
        assert request(side, "/api/series").status == 404
        assert request(side, "/metrics/").status == 404
    # Stopped with the app: the port is closed.
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", side), timeout=5):
        pass


async def test_a_taken_metrics_port_fails_the_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = MetricsServer(Metrics(), "127.0.0.1", taken.getsockname()[1])
        with pytest.raises(OSError, match="in use"):
            await server.run()
