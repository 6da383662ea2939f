"""The simulator against a real PostgreSQL: profile of the history, live writing, bulk fill, CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
import pytest

from realtime.config import PgSettings
from realtime.series import quote_ident
from realtime.sim.cli import main
from realtime.sim.live import Simulator
from realtime.sim.tables import backfill, create_tables, fill_rows
from tests.support.pg import PgServer, TestDb, connect, create_database, create_schema, drop_database, run

END = datetime(2026, 3, 10, 12, 0, 0, tzinfo=timezone.utc)
# Median seconds between rows of the regularly logged series (temperature is logged by exception).
EXPECTED_INTERVAL = {"ph": 3.0, "do": 1.0, "pressure": 3.8}
QUANTUM = {"temperature": 0.0014, "pressure": 0.002}
VALUE_RANGE = {"temperature": (36.5, 37.5), "ph": (7.0, 7.4), "do": (15.0, 70.0), "pressure": (1.4, 1.6)}
PG_VARS = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")


async def _rows(db: TestDb, key: str, order: str = "") -> list[asyncpg.Record]:
    conn = await db.connect()
    try:
        return list(await conn.fetch(f"SELECT time, value FROM {db.qualified(key)} {order}"))
    finally:
        await conn.close()


async def _count(pg: PgSettings, table: str) -> int:
    conn = await connect(pg)
    try:
        result: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
        return result
    finally:
        await conn.close()


async def _until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _seconds(rows: list[asyncpg.Record]) -> list[float]:
    return [r["time"].replace(tzinfo=timezone.utc).timestamp() for r in rows]


def test_backfill_matches_the_measured_profile(db: TestDb) -> None:
    async def go() -> dict[str, int]:
        conn = await db.connect()
        try:
            return await backfill(conn, db.series, hours=24.0, end=END, seed=7)
        finally:
            await conn.close()

    written = run(go())
    end = END.replace(tzinfo=None)
    for spec in db.series:
        rows = run(_rows(db, spec.key))  # physical order: COPY wrote them sorted
        assert len(rows) == written[spec.key]
        times = [r["time"] for r in rows]
        assert times == sorted(times)
        assert len(set(times)) == len(times)
        assert end - timedelta(hours=24) <= times[0] < end - timedelta(hours=23, minutes=55)
        assert end - timedelta(minutes=5) < times[-1] <= end
        assert all(t.microsecond % 1000 == 0 for t in times), "millisecond precision"
        steps = np.diff(_seconds(rows))
        assert 1.0 <= statistics.median(steps) <= 5.0
        if spec.key in EXPECTED_INTERVAL:
            # The exception-logged temperature's profile is checked in test_sim_sampling.
            assert statistics.median(steps) == pytest.approx(EXPECTED_INTERVAL[spec.key], rel=0.1)
            assert (steps > 30).sum() >= 3, "occasional gaps"
            assert steps.max() <= 250, "gaps of up to about four minutes"
        values = np.array([r["value"] for r in rows])
        assert np.array_equal(values.astype(np.float32).astype(np.float64), values), "float32 widened to double"
        low, high = VALUE_RANGE[spec.key]
        assert values.min() > low
        assert values.max() < high
        if spec.key in QUANTUM:
            steps_of_grid = values / QUANTUM[spec.key]
            assert np.abs(steps_of_grid - np.round(steps_of_grid)).max() < 1e-2
    assert sum(written.values()) > 100_000


def test_backfill_is_reproducible_and_writes_zone_wall_time(db: TestDb) -> None:
    spec = db.spec("ph")
    copy = dataclasses.replace(spec, table="copy/of pH")

    async def go() -> None:
        conn = await db.connect()
        try:
            await create_tables(conn, (copy,))
            await backfill(conn, (spec,), hours=0.5, end=END, seed=3, timezone="Europe/Berlin")
            await backfill(conn, (copy,), hours=0.5, end=END, seed=3, timezone="Europe/Berlin")
        finally:
            await conn.close()

    run(go())
    rows = run(_rows(db, "ph", "ORDER BY time"))
    copied = TestDb(db.admin, db.schema, (dataclasses.replace(copy, key="ph"),), db.server)
    assert rows == run(_rows(copied, "ph", "ORDER BY time"))
    # 12:00 UTC on 10 March is 13:00 in Berlin.
    assert datetime(2026, 3, 10, 12, 55) < rows[-1]["time"] <= datetime(2026, 3, 10, 13, 0)


def test_create_tables_is_idempotent_and_indexes_time(bare_db: TestDb) -> None:
    async def go() -> list[asyncpg.Record]:
        conn = await bare_db.connect()
        try:
            await create_tables(conn, bare_db.series)
            await create_tables(conn, bare_db.series)
            return list(
                await conn.fetch(
                    "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY tablename",
                    bare_db.schema,
                )
            )
        finally:
            await conn.close()

    indexes = run(go())
    assert sorted(r["tablename"] for r in indexes) == sorted(s.table for s in bare_db.series)
    assert all('btree ("time")' in r["indexdef"] or "btree (time)" in r["indexdef"] for r in indexes)
    assert run(_rows(bare_db, "do")) == []


def test_create_tables_creates_a_missing_schema(bare_db: TestDb) -> None:
    schema = bare_db.schema + "_New"  # mixed case: must be quoted
    spec = dataclasses.replace(bare_db.spec("temperature"), schema=schema)

    async def go() -> int:
        conn = await bare_db.connect()
        try:
            await create_tables(conn, (spec,))
            count: int = await conn.fetchval(f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(spec.table)}")
            await conn.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
            return count
        finally:
            await conn.close()

    assert run(go()) == 0


def test_fill_rows_writes_exactly_n_irregular_rows(db: TestDb) -> None:
    n = 300_000  # more than one COPY chunk

    async def go() -> int:
        pool = await asyncpg.create_pool(
            host=db.admin.host,
            port=db.admin.port,
            user=db.admin.user,
            database=db.admin.database,
            min_size=1,
            max_size=1,
        )
        try:
            return await fill_rows(pool, db.spec("pressure"), rows=n, end=END, interval_s=2.0, seed=1)
        finally:
            await pool.close()

    assert run(go()) == n
    rows = run(_rows(db, "pressure", "ORDER BY time"))
    assert len(rows) == n
    assert rows[-1]["time"] == END.replace(tzinfo=None)
    times = [r["time"] for r in rows]
    assert len(set(times)) == n
    assert all(t.microsecond % 1000 == 0 for t in times[:1000])
    steps = np.diff(_seconds(rows))
    assert statistics.median(steps) == pytest.approx(2.0, rel=0.1)
    assert steps.std() > 0.3, "irregular"
    assert (steps > 30).sum() > 10, "with gaps"
    values = np.array([r["value"] for r in rows])
    assert np.array_equal(values.astype(np.float32).astype(np.float64), values)
    assert np.abs(values / 0.002 - np.round(values / 0.002)).max() < 1e-3
    assert values.min() > 1.4
    assert values.max() < 1.6


def test_live_simulator_continues_history_and_stops_promptly(db: TestDb) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)

    async def go() -> tuple[dict[str, int], float]:
        conn = await db.connect()
        try:
            await backfill(conn, db.series, hours=0.1, end=before, seed=11)
        finally:
            await conn.close()
        stop = asyncio.Event()
        simulator = Simulator(db.admin, db.series, seed=11, gaps=False)
        task = asyncio.create_task(simulator.run(stop))
        # Pressure samples every ~4 s, so one row each is a few seconds' wait.
        await _until(lambda: min(simulator.written.values()) >= 1 and simulator.written["do"] >= 3, 15)
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, 5)
        return simulator.written, time.monotonic() - started

    written, stop_time = run(go())
    before = before.replace(tzinfo=None)
    assert min(written.values()) >= 1
    assert stop_time < 1.0
    for spec in db.series:
        rows = run(_rows(db, spec.key, "ORDER BY time"))
        live = [r for r in rows if r["time"] > before]
        assert len(live) == written[spec.key]
        assert all(r["time"].microsecond % 1000 == 0 for r in live)
        assert abs(live[-1]["time"] - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(seconds=20)
        # Smooth continuation: the first live value is close to the last backfilled one.
        history = [r for r in rows if r["time"] <= before]
        jump = abs(live[0]["value"] - history[-1]["value"])
        assert jump < {"temperature": 0.1, "ph": 0.03, "do": 6.0, "pressure": 0.02}[spec.key]


def test_live_simulator_survives_a_database_restart(restartable_server: PgServer) -> None:
    """The simulator buffers through an outage and forwards the rows, as a historian does."""
    server = restartable_server
    pg = run(create_database(server.admin))
    db = run(create_schema(pg, server))
    spec = db.spec("do")
    outage: list[datetime] = []

    async def go() -> Simulator:
        stop = asyncio.Event()
        simulator = Simulator(db.admin, (spec,), seed=5, gaps=False, max_backoff=0.5)
        task = asyncio.create_task(simulator.run(stop))
        try:
            assert await _until(lambda: simulator.written["do"] >= 1, 10)
            await asyncio.to_thread(server.stop)
            outage.append(datetime.now(timezone.utc).replace(tzinfo=None))
            assert await _until(lambda: not simulator.database_up, 10)
            # A row sampled after the stop is buffered: the outage has a row to forward.
            buffered = simulator._pending[0]
            assert await _until(lambda: any(t > outage[0] for t, _ in buffered), 10)
            outage.append(datetime.now(timezone.utc).replace(tzinfo=None))
            await asyncio.to_thread(server.start)
            assert await _until(lambda: simulator.database_up and simulator.written["do"] > 3, 20)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
        return simulator

    try:
        simulator = run(go())
        rows = run(_rows(db, "do", "ORDER BY time"))
        assert simulator.database_up
        assert len(rows) == simulator.written["do"]
        assert any(outage[0] < r["time"] < outage[1] for r in rows), "rows sampled during the outage are forwarded"
    finally:
        server.start()  # a no-op when it is running; other tests share this server
        run(drop_database(server.admin, pg.database))


def _without_pg(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PG_VARS:
        monkeypatch.delenv(name, raising=False)


def test_cli_without_postgres_settings_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _without_pg(monkeypatch)
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("run-simulator: error: missing environment variables: POSTGRES_HOST")


def test_module_entry_point_fails_without_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if k not in PG_VARS}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    result = subprocess.run(
        [sys.executable, "-m", "realtime.sim", "--no-live"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.startswith("run-simulator: error: ")
    assert "Traceback" not in result.stderr


def _cli_env(monkeypatch: pytest.MonkeyPatch, db: TestDb, tmp_path: Path) -> None:
    pg = db.admin
    for name, value in zip(PG_VARS, (pg.host, str(pg.port), pg.user, pg.password, pg.database), strict=True):
        monkeypatch.setenv(name, value)
    series: list[dict[str, Any]] = [dataclasses.asdict(s) for s in db.series]
    path = tmp_path / "series.json"
    path.write_text(json.dumps(series), encoding="utf-8")
    monkeypatch.setenv("SERIES_FILE", str(path))


def test_cli_creates_and_backfills_empty_tables(db: TestDb, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _cli_env(monkeypatch, db, tmp_path)
    run(db.drop_table("ph"))
    assert main(["--backfill-hours", "0.5", "--no-live", "--seed", "1", "--timezone", "UTC"]) == 0
    counts = {s.key: run(_count(db.admin, db.qualified(s.key))) for s in db.series}
    # Half an hour: regular series every 1-4 s; temperature only when it moves (p50 4 s, long steady spells).
    assert all(300 < c < 2000 for k, c in counts.items() if k != "temperature"), counts
    assert 30 < counts["temperature"] < 1000, counts
    # Without --backfill-hours only empty tables are filled, so nothing changes now.
    assert main(["--no-live"]) == 0
    assert {s.key: run(_count(db.admin, db.qualified(s.key))) for s in db.series} == counts


def test_cli_chooses_the_sampling_per_series(
    db: TestDb, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli_env(monkeypatch, db, tmp_path)
    args = ["--backfill-hours", "0.5", "--no-live", "--seed", "1", "--series", "temperature", "--series", "ph"]
    assert main([*args, "--sampling", "temperature=regular", "--sampling", "ph=exception"]) == 0
    temperature = run(_rows(db, "temperature", "ORDER BY time"))
    # Regular: a row every ~2 s, so about 900 in half an hour, repeats included.
    assert 700 < len(temperature) < 1100
    assert any(a["value"] == b["value"] for a, b in itertools.pairwise(temperature))
    ph = run(_rows(db, "ph", "ORDER BY time"))
    assert all(a["value"] != b["value"] for a, b in itertools.pairwise(ph)), "by exception: only changes"
    for bad, message in (
        ("temperature=sometimes", "sometimes"),
        ("oxygen=regular", "unknown series"),
        ("ph", "KEY=MODE"),
    ):
        assert main(["--no-live", "--sampling", bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("run-simulator: error: ")
        assert message in err


def test_cli_bulk_fill(db: TestDb, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _cli_env(monkeypatch, db, tmp_path)
    assert main(["--rows", "12345", "--series", "temperature", "--seed", "2"]) == 0
    assert run(_count(db.admin, db.qualified("temperature"))) == 12345
    assert run(_count(db.admin, db.qualified("do"))) == 0


def test_cli_rejects_an_unknown_zone(
    db: TestDb, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _cli_env(monkeypatch, db, tmp_path)
    assert main(["--timezone", "Mars/Olympus"]) == 2
    assert "Mars/Olympus" in capsys.readouterr().err


def test_naive_end_is_read_in_the_zone(db: TestDb) -> None:
    spec = db.spec("temperature")
    naive_end = datetime(2026, 7, 1, 9, 0, 0)

    async def go() -> None:
        conn = await db.connect()
        try:
            await fill_rows(conn, spec, rows=10, end=naive_end, timezone="America/New_York", seed=4)
            await fill_rows(conn, spec, rows=10, end=naive_end.replace(tzinfo=ZoneInfo("America/New_York")), seed=4)
        finally:
            await conn.close()

    run(go())
    rows = run(_rows(db, "temperature", "ORDER BY time"))
    # Both calls end at 09:00 New York; the first writes New York wall time, the second UTC.
    assert [r["time"] for r in rows][-1] == datetime(2026, 7, 1, 13, 0, 0)
    assert datetime(2026, 7, 1, 9, 0, 0) in [r["time"] for r in rows]
