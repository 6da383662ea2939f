"""Fan-out of live messages to WebSocket clients.

Each message is encoded once and the same text is queued for every client.
Queues are bounded: a client that falls ``client_queue_size`` messages behind
is dropped (closed with 1013, "try again later") rather than holding others up
or growing memory; it reconnects and subscribes with ``since``, so it loses
nothing. The database load does not depend on how many clients there are.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

__all__ = ["Client", "Hub", "encode"]


def encode(message: dict[str, Any]) -> str:
    return orjson.dumps(message, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class Client:
    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
        # Appends flow only after the client has subscribed (see views/ws.py).
        self.subscribed = False
        self.overflowed = asyncio.Event()
        # Set when the client is closed for being too slow (overflow or a frozen send).
        self.dropped = False

    def offer(self, payload: str) -> None:
        if self.overflowed.is_set():
            return
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.dropped = True
            self.overflowed.set()


class Hub:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.clients: set[Client] = set()
        self.dropped = 0

    def publish(self, message: dict[str, Any], *, subscribed_only: bool = True) -> None:
        if not self.clients:
            return
        payload = encode(message)
        for client in self.clients:
            if client.subscribed or not subscribed_only:
                client.offer(payload)

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Client]:
        client = Client(self.queue_size)
        self.clients.add(client)
        try:
            yield client
        finally:
            self.clients.discard(client)
            if client.dropped:
                self.dropped += 1
