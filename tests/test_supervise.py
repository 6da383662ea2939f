"""No zombies: a crashed background task is restarted, one that keeps crashing
stops the process with a non-zero exit, and a stalled poller fails /readyz."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta

import httpx2 as httpx

from realtime.supervise import Policy, supervised
from tests.support.pg import TestDb, run
from tests.support.server import free_port, serve, wait_until

FAST = Policy(max_restarts=2, window=60.0, first_delay=0.01, max_delay=0.02)


async def test_a_crashed_task_is_restarted() -> None:
    runs = 0
    fatal: list[str] = []

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise RuntimeError(f"crash {runs}")

    await asyncio.wait_for(supervised("flaky", flaky, fatal.append, FAST), 5)
    assert runs == 3
    assert fatal == []


async def test_a_task_that_keeps_crashing_is_fatal() -> None:
    fatal: list[str] = []

    async def broken() -> None:
        raise RuntimeError("the disk is on fire")

    await asyncio.wait_for(supervised("broken", broken, fatal.append, FAST), 5)
    assert fatal == ["broken: RuntimeError: the disk is on fire"]


def test_run_app_exits_non_zero_when_a_task_keeps_crashing(db: TestDb) -> None:
    """Regression: when a lifespan task raised, the pollers were cancelled and
    the pool closed, but the server kept answering 200 on /readyz and
    /api/series and never delivered another row. Now the process stops and
    exits non-zero, so the orchestrator restarts it."""
    script = textwrap.dedent(
        f"""
        import argparse, sys
        from realtime import cli
        from realtime.config import PgSettings, Settings
        from realtime.series import SeriesSpec
        from realtime.supervise import Policy

        async def broken() -> None:
            raise RuntimeError("broken on purpose")

        pg = PgSettings({db.reader.host!r}, {db.reader.port}, {db.reader.user!r}, {db.reader.password!r},
                        {db.reader.database!r})
        settings = Settings(pg=pg, series=(SeriesSpec("ph", {db.spec("ph").table!r}, "pH", schema={db.schema!r}),))
        args = argparse.Namespace(host="127.0.0.1", port={free_port()}, log_level="warning")
        policy = Policy(max_restarts=2, window=60.0, first_delay=0.05, max_delay=0.1)
        sys.exit(cli.serve(settings, args, [broken], policy))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "run-app: error: stopped: broken: RuntimeError: broken on purpose" in done.stderr


def test_readyz_fails_while_a_poller_is_stalled(db: TestDb) -> None:
    """A poller blocked (here by an exclusive lock on its table) makes no rounds:
    /readyz says so per series and answers 503 until it moves again."""
    run(db.insert("ph", [(datetime(2026, 3, 1) + timedelta(seconds=i), 7.0) for i in range(10)]))
    with serve(db.settings(poll_interval=0.1, poll_stall_after=1.0)) as live:
        wait_until(lambda: httpx.get(f"{live.url}/readyz").status_code == 200)

        async def hold_lock(seconds: float) -> None:
            conn = await db.connect()
            try:
                async with conn.transaction():
                    await conn.execute(f"LOCK TABLE {db.qualified('ph')} IN ACCESS EXCLUSIVE MODE")
                    await asyncio.sleep(seconds)
            finally:
                await conn.close()

        blocked: list[dict[str, object]] = []

        def watch() -> None:
            wait_until(lambda: httpx.get(f"{live.url}/readyz").status_code == 503, timeout=10)
            blocked.append(httpx.get(f"{live.url}/readyz").json())

        import threading

        watcher = threading.Thread(target=watch)
        watcher.start()
        run(hold_lock(4.0))
        watcher.join()
        body = blocked[0]
        series = body["series"]
        assert isinstance(series, dict)
        assert series["ph"]["stalled"] is True
        assert series["temperature"]["stalled"] is False
        assert "ph" in str(body["reason"])
        wait_until(lambda: httpx.get(f"{live.url}/readyz").status_code == 200, timeout=10)
