"""The live feed: one WebSocket per viewer, fed from the hub.

A viewer gets live rows from the moment it connects. ``subscribe`` asks for
a replay of what it missed (see docs/contract.md). The handler only reads:
frames reach the viewer through the hub, written straight to its socket.
It ends when the viewer leaves or the hub drops it; a dropped viewer is
closed with a reason (1013 overflow, 1008 frozen) and, if its socket will
not drain, aborted after a bounded wait, so its memory and descriptor go
(see hub.Viewer.drop and wsprotocol.DirectChannel.close).
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

import anyio
import orjson
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from realtime import messages
from realtime.context import Context, context
from realtime.hub import CLOSE_CODES, Outgoing, Viewer
from realtime.peer import peer_of
from realtime.times import MAX_US, MIN_US, us_from_wire
from realtime.wsprotocol import EXTENSION

__all__ = ["heartbeat", "websocket_endpoint"]

# How long a dropped viewer's close may take before its socket is aborted.
CLOSE_WAIT_S = 2.0
# What a vanished peer raises: starlette's disconnect, uvicorn's ClientDisconnected (an
# OSError), or a send on a socket that is already closing.
_GONE = (WebSocketDisconnect, OSError, RuntimeError)
# Subscribes a viewer may send in a burst, and how fast the allowance refills.
SUBSCRIBE_BURST = 5
SUBSCRIBE_EVERY_S = 2.0


async def heartbeat(ctx: Context) -> None:
    while True:
        await anyio.sleep(ctx.settings.heartbeat_interval)
        ctx.hub.publish(messages.heartbeat())


def _number_map(value: Any, name: str) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'{name}' must be an object of series key to number")
    out: dict[str, float] = {}
    for key, x in value.items():
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ValueError(f"'{name}.{str(key)[:40]}' must be a number")
        out[str(key)] = float(x)
    return out


def subscribe(ctx: Context, viewer: Viewer, message: dict[str, Any]) -> None:
    """Send a replay of every row after ``since``, in one synchronous step.

    Live rows flow from the moment of connection, so some rows after
    ``since`` may already have reached the viewer as live appends. The
    replay is authoritative above ``since``: the viewer replaces what it
    holds after ``since`` with it. Everything published before the replay
    is flushed ahead of it, and everything after it holds rows merged after
    it, so no row is lost or kept twice.
    """
    for name in ("since", "seq"):
        value = message.get(name)
        if isinstance(value, dict) and len(value) > len(ctx.store.series):
            raise ValueError(f"'{name}' names more series than there are ({len(ctx.store.series)})")
    since = _number_map(message.get("since"), "since")
    seqs = _number_map(message.get("seq"), "seq")
    unknown = sorted(k for k in (*since, *seqs) if k not in ctx.store)
    if unknown:
        raise ValueError(f"unknown series {', '.join(k[:40] for k in unknown[:4])}")
    for key, since_ms in since.items():
        # Finite is not enough: 1e308 ms is no instant, and its µs overflow.
        if not MIN_US <= since_ms * 1000 <= MAX_US:
            raise ValueError(f"'since.{key[:40]}' must be epoch milliseconds within the years 1 to 9999")
    parts: list[Outgoing] = []
    resync: list[str] = []
    for key, since_ms in since.items():
        series = ctx.store[key]
        # Wire times carry µs as fractional ms: the edge is the viewer's own newest row.
        edge = us_from_wire(since_ms)
        # Counted before anything is copied: a replay over the cap is a reload instead.
        if series.count_after(edge) > ctx.settings.replay_max_rows:
            resync.append(key)
            continue
        parts.append(ctx.replays.get(series, edge))
        if key in seqs and series.needs_resync(edge, int(seqs[key])):
            resync.append(key)
    # One frame per replay: each is shared, already encoded (and compressed), by every viewer asking for it.
    for part in parts:
        ctx.hub.unicast(viewer, part)
    if resync:
        ctx.hub.unicast(viewer, messages.resync(resync))


class _Allowance:
    """A token bucket: a viewer's own messages cost it, not the others."""

    def __init__(self) -> None:
        self.tokens = float(SUBSCRIBE_BURST)
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(SUBSCRIBE_BURST, self.tokens + (now - self.at) / SUBSCRIBE_EVERY_S)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


async def _receive(websocket: WebSocket, ctx: Context, viewer: Viewer) -> None:
    allowance = _Allowance()
    while True:
        try:
            msg = await websocket.receive()
        except _GONE:
            return
        if msg["type"] == "websocket.disconnect":
            return
        if not allowance.take():
            ctx.hub.unicast(viewer, messages.error("too many messages; wait a few seconds"))
            continue
        text = msg.get("text") or (msg.get("bytes") or b"").decode("utf-8", "replace")
        try:
            data = orjson.loads(text)
            if not isinstance(data, dict) or data.get("type") != "subscribe":
                raise ValueError("expected {'type': 'subscribe', ...}")
            subscribe(ctx, viewer, data)
        except (ValueError, orjson.JSONDecodeError) as exc:
            ctx.hub.unicast(viewer, messages.error(str(exc)))


async def _pump(websocket: WebSocket, viewer: Viewer) -> None:
    """The fallback sender, where no direct channel to the socket exists."""
    while True:
        await viewer.ready.wait()
        while viewer.queue:
            text = viewer.queue.popleft()
            viewer.queued_bytes -= len(text)
            viewer.sending_since = time.monotonic()
            try:
                await websocket.send_text(text)
            except _GONE:
                return
            viewer.sending_since = None
        viewer.ready.clear()


async def _close(websocket: WebSocket, viewer: Viewer) -> None:
    """Close a dropped viewer (fallback path) with its reason, within a bound."""
    assert viewer.dropped is not None
    with anyio.move_on_after(CLOSE_WAIT_S):
        try:
            if websocket.client_state == WebSocketState.CONNECTED:
                await websocket.close(*CLOSE_CODES[viewer.dropped])
        except _GONE:
            pass


async def _refuse(websocket: WebSocket, status: int, reason: str) -> None:
    with contextlib.suppress(*_GONE):
        await websocket.send_denial_response(JSONResponse({"error": reason}, status, headers={"Retry-After": "5"}))


async def websocket_endpoint(websocket: WebSocket) -> None:
    ctx = context(websocket)
    client = peer_of(websocket.scope).client
    # Refused before the handshake: the browser retries with backoff, and other replicas may take it.
    if len(ctx.hub) >= ctx.settings.max_viewers:
        await _refuse(websocket, 503, "this server has as many live viewers as it may serve; try again later")
        return
    if ctx.hub.per_client[client] >= ctx.settings.max_viewers_per_client:
        await _refuse(websocket, 503, "this address has as many live connections as it may open; try again later")
        return
    channel = websocket.scope.get("extensions", {}).get(EXTENSION, {}).get("channel")
    try:
        await websocket.accept()
    except _GONE:
        return  # gone before the handshake completed
    # attach/detach, not a context manager: one generator frame less, times every viewer.
    viewer = ctx.hub.attach(channel, client)
    try:
        ctx.hub.unicast(viewer, messages.hello(demo=ctx.settings.demo, db=ctx.health.snapshot()))
        if channel is not None:
            # Frames reach the socket through the hub, and a drop closes it from there
            # (the disconnect then ends this read): one task per viewer, no more.
            await _receive(websocket, ctx, viewer)
        else:
            await _fallback(websocket, ctx, viewer)
    finally:
        ctx.hub.detach(viewer)


async def _fallback(websocket: WebSocket, ctx: Context, viewer: Viewer) -> None:
    """Without a direct channel: a sender task too. Whichever ends first (the viewer leaves, or
    is dropped) ends the others; an abrupt disconnect is a normal event, nothing escapes."""
    async with anyio.create_task_group() as tg:

        async def until_gone() -> None:
            await viewer.gone.wait()
            tg.cancel_scope.cancel()

        async def reading() -> None:
            await _receive(websocket, ctx, viewer)
            tg.cancel_scope.cancel()

        async def pumping() -> None:
            await _pump(websocket, viewer)
            tg.cancel_scope.cancel()

        tg.start_soon(until_gone)
        tg.start_soon(reading)
        tg.start_soon(pumping)
    if viewer.dropped is not None:
        await _close(websocket, viewer)
