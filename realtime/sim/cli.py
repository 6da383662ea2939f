"""The ``run-simulator`` command (or ``python -m realtime.sim``): create tables, backfill, then write live rows."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from realtime.backoff import Backoff
from realtime.config import ConfigError, PgSettings, pg_from_env, time_zone
from realtime.db import connect
from realtime.series import DEFAULT_SERIES, SeriesSpec, load_series_file
from realtime.sim.live import Simulator
from realtime.sim.sampling import Sampling, check_sampling
from realtime.sim.tables import backfill, backfill_empty, create_tables, fill_rows

__all__ = ["main"]

log = logging.getLogger("realtime.sim")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run-simulator",
        description=(
            "Simulate a cultivated-meat bioreactor writing its historian tables. By default: create missing "
            "tables, backfill 24 h into empty ones, then write live rows until Ctrl-C. Connection from POSTGRES_*."
        ),
    )
    parser.add_argument(
        "--backfill-hours",
        type=float,
        metavar="H",
        help="backfill H hours ending now into every table (default: 24 h into empty tables only)",
    )
    parser.add_argument("--rows", type=int, metavar="N", help="bulk-fill N rows into --series KEY, then exit")
    parser.add_argument("--interval", type=float, default=1.0, metavar="S", help="median seconds between --rows rows")
    parser.add_argument(
        "--series", action="append", metavar="KEY", help="simulate only this series (repeatable; default: all)"
    )
    parser.add_argument(
        "--sampling",
        action="append",
        metavar="KEY=MODE",
        help="log series KEY 'regular' (every reading, on a jittery clock) or by 'exception' (when it moves past"
        " its deadband); repeatable (default: temperature by exception, the others regular)",
    )
    parser.add_argument("--no-live", action="store_true", help="exit after creating and backfilling")
    parser.add_argument("--seed", type=int, help="random seed, for reproducible data")
    parser.add_argument(
        "--timezone", metavar="ZONE", help="zone of the naive timestamps (default: DATA_TIMEZONE or UTC)"
    )
    return parser


def _select(series: Sequence[SeriesSpec], keys: list[str] | None) -> tuple[SeriesSpec, ...]:
    if not keys:
        return tuple(series)
    by_key = {s.key: s for s in series}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise ConfigError(f"unknown series {', '.join(unknown)} (known: {', '.join(by_key)})")
    return tuple(by_key[k] for k in dict.fromkeys(keys))


def _sampling(choices: list[str] | None, series: Sequence[SeriesSpec]) -> dict[str, Sampling]:
    pairs = [choice.partition("=") for choice in choices or ()]
    if any(not sep for _, sep, _ in pairs):
        raise ConfigError("--sampling takes KEY=MODE")
    _select(series, [key for key, _, _ in pairs])
    try:
        return check_sampling({key: mode for key, _, mode in pairs})
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


async def _connect_retrying(pg: PgSettings, attempts: int = 10) -> asyncpg.Connection[asyncpg.Record]:
    """Connect, waiting out a database that is still starting (compose starts both together)."""
    backoff = Backoff(0.5, 5.0)
    while True:
        try:
            return await connect(pg)
        except (OSError, asyncpg.CannotConnectNowError) as exc:
            if backoff.attempts == attempts - 1:
                raise
            log.info("waiting for the database (%s)", exc)
            await asyncio.sleep(backoff.next())


async def _run(
    args: argparse.Namespace,
    pg: PgSettings,
    series: tuple[SeriesSpec, ...],
    timezone: str,
    sampling: dict[str, Sampling],
) -> int:
    conn = await _connect_retrying(pg)
    try:
        await create_tables(conn, series)
        if args.rows is not None:
            (spec,) = series
            started = time.perf_counter()
            await fill_rows(conn, spec, rows=args.rows, interval_s=args.interval, seed=args.seed, timezone=timezone)
            log.info("filled %d rows into %s in %.1f s", args.rows, spec.table, time.perf_counter() - started)
            return 0
        started = time.perf_counter()
        if args.backfill_hours is None:
            written = await backfill_empty(
                conn, series, hours=24.0, seed=args.seed, timezone=timezone, sampling=sampling
            )
        elif args.backfill_hours > 0:
            written = await backfill(
                conn, series, hours=args.backfill_hours, seed=args.seed, timezone=timezone, sampling=sampling
            )
        else:
            written = {}
        if written:
            log.info("backfilled %s in %.1f s", written, time.perf_counter() - started)
    finally:
        await conn.close()
    if args.no_live:
        return 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    log.info("writing live rows to %d tables; Ctrl-C to stop", len(series))
    await Simulator(pg, series, seed=args.seed, timezone=timezone, sampling=sampling).run(stop)
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The ``run-simulator`` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.rows is not None and (args.rows < 0 or not args.series or len(args.series) != 1):
        parser.error("--rows N needs one --series KEY and N >= 0")
    if not args.interval > 0:
        parser.error("--interval must be positive")
    env = os.environ
    try:
        pg = pg_from_env(env)
        series_file = env.get("SERIES_FILE", "").strip()
        series = _select(load_series_file(Path(series_file)) if series_file else DEFAULT_SERIES, args.series)
        timezone = time_zone(
            "--timezone" if args.timezone else "DATA_TIMEZONE",
            args.timezone or env.get("DATA_TIMEZONE", "").strip() or "UTC",
        )
        sampling = _sampling(args.sampling, series)
    except ConfigError as exc:
        print(f"run-simulator: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        return asyncio.run(_run(args, pg, series, timezone, sampling))
    except KeyboardInterrupt:  # Ctrl-C before the live loop installed its handler
        return 130
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"run-simulator: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
