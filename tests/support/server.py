"""Run the real app on a real port, in a thread, for WebSocket and browser tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette

from realtime.app import BackgroundTask, create_app
from realtime.config import Settings
from realtime.context import Context
from realtime.serving import limits, uvicorn_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


class LiveServer:
    def __init__(self, app: Starlette, port: int, thread: threading.Thread) -> None:
        self.app = app
        self.port = port
        self.thread = thread
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/ws"

    @property
    def ctx(self) -> Context:
        ctx = self.app.state.ctx
        assert isinstance(ctx, Context)
        return ctx

    @property
    def stopped(self) -> bool:
        """The server has shut down (on its own, if the test did not stop it)."""
        return not self.thread.is_alive()

    def loaded(self) -> bool:
        return all(s.loaded or s.state in ("missing", "error") for s in self.ctx.store.series.values())


@contextmanager
def serve(
    settings: Settings,
    port: int | None = None,
    *,
    wait_loaded: bool = True,
    loaded_within: float = 15.0,
    background: Sequence[BackgroundTask] = (),
) -> Iterator[LiveServer]:
    """The app on ``port`` (default: a free one); reuse a port to restart "the same" server.

    Waits until every table is loaded (or known missing) unless ``wait_loaded``
    is false (a database that is down or refuses us). A fatal fault stops the
    server as ``run-app`` does: ``LiveServer.stopped`` then tells.
    """

    def stop() -> None:
        server.should_exit = True

    app = create_app(settings, background=background, on_fatal=stop)
    port = port if port is not None else free_port()
    # The options run-app uses (no server header, the app's access log, 414 for long request lines, the
    # direct-write WebSocket protocol).
    server = uvicorn.Server(
        uvicorn_config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **limits(settings))
    )

    def run() -> None:
        asyncio.run(server.serve())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    live = LiveServer(app, port, thread)
    try:
        wait_until(lambda: server.started, timeout=15)
        if wait_loaded:
            wait_until(live.loaded, timeout=loaded_within)
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=15)
