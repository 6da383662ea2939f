"""The live feed: one WebSocket per browser, fed from the hub.

Receive, send and the overflow watch run in one task group; whichever ends
first (disconnect, a send that times out, an overflowing queue) cancels the
others, and the hub forgets the client on the way out.
"""

from __future__ import annotations

import math
from typing import Any

import anyio
import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from realtime import messages
from realtime.context import Context, context
from realtime.hub import Client
from realtime.messages import encode
from realtime.times import us_from_wire

__all__ = ["heartbeat", "websocket_endpoint"]

# RFC 6455: 1008 policy violation (frozen client), 1013 try again later (overflow).
CLOSE_FROZEN = 1008
CLOSE_OVERFLOW = 1013


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
            raise ValueError(f"'{name}.{key}' must be a number")
        out[str(key)] = float(x)
    return out


def subscribe(ctx: Context, client: Client, message: dict[str, Any]) -> None:
    """Queue a replay of every row after ``since``, in one synchronous step.

    Live rows flow from the moment of connection, so some rows after
    ``since`` may already be queued or in flight as live appends. The
    replay is authoritative above ``since``: the client replaces what it
    holds after ``since`` with it. Every live message queued before the
    replay reaches the client before it (one FIFO queue), and every one
    queued after it holds rows merged after it, so no row is lost or kept
    twice.
    """
    since = _number_map(message.get("since"), "since")
    seqs = _number_map(message.get("seq"), "seq")
    unknown = sorted(k for k in (*since, *seqs) if k not in ctx.store)
    if unknown:
        raise ValueError(f"unknown series {', '.join(unknown)}")
    resync: list[str] = []
    for key, since_ms in since.items():
        series = ctx.store[key]
        # Wire times carry µs as fractional ms: the edge is the client's own newest row.
        edge = us_from_wire(since_ms)
        t, v = series.rows_after(edge)
        if t.size > ctx.settings.replay_max_rows:
            resync.append(key)
            continue
        client.offer(encode(messages.append(key, t, v, seq=series.seq, late=False, replay=True)))
        if key in seqs and series.needs_resync(edge, int(seqs[key])):
            resync.append(key)
    if resync:
        client.offer(encode(messages.resync(resync)))


async def websocket_endpoint(websocket: WebSocket) -> None:
    ctx = context(websocket)
    await websocket.accept()
    async with ctx.hub.connect() as client:
        client.offer(encode(messages.hello(demo=ctx.settings.demo, db=ctx.health.snapshot())))
        close_code: int | None = None

        async with anyio.create_task_group() as tg:

            async def receive() -> None:
                while True:
                    msg = await websocket.receive()
                    if msg["type"] == "websocket.disconnect":
                        break
                    text = msg.get("text") or (msg.get("bytes") or b"").decode("utf-8", "replace")
                    try:
                        data = orjson.loads(text)
                        if not isinstance(data, dict) or data.get("type") != "subscribe":
                            raise ValueError("expected {'type': 'subscribe', ...}")
                        subscribe(ctx, client, data)
                    except (ValueError, orjson.JSONDecodeError) as exc:
                        client.offer(encode(messages.error(str(exc))))
                tg.cancel_scope.cancel()

            async def send() -> None:
                nonlocal close_code
                while True:
                    payload = await client.queue.get()
                    with anyio.move_on_after(ctx.settings.send_timeout) as scope:
                        await websocket.send_text(payload)
                    if scope.cancelled_caught:
                        close_code = CLOSE_FROZEN
                        client.dropped = True
                        tg.cancel_scope.cancel()
                        return

            async def watch_overflow() -> None:
                nonlocal close_code
                await client.overflowed.wait()
                close_code = CLOSE_OVERFLOW
                tg.cancel_scope.cancel()

            tg.start_soon(receive)
            tg.start_soon(send)
            tg.start_soon(watch_overflow)

        if close_code is not None and websocket.client_state == WebSocketState.CONNECTED:
            try:
                with anyio.move_on_after(1):
                    await websocket.close(close_code)
            except (RuntimeError, WebSocketDisconnect, OSError):
                pass
