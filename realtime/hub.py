"""Fan-out of live messages to WebSocket clients.

Each message is encoded once and the same text is offered to every client.
Queues are bounded: a client that falls ``queue_size`` messages behind is
marked overflowed and dropped (closed with 1013, "try again later") rather
than holding others up or growing memory; it reconnects and subscribes with
``since``, so it loses nothing. The database load does not depend on how
many clients there are.

Delivery goes through a small :class:`Backend` interface. The one backend
today is in-process; another transport (to fan out across processes) would
implement the same two methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from realtime.messages import Message, encode

__all__ = ["Backend", "Client", "Hub", "LocalBackend"]


class Client:
    def __init__(self, queue_size: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
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


class Backend(Protocol):
    """Where published text goes: every current client, by some transport."""

    def add(self, client: Client) -> None: ...

    def discard(self, client: Client) -> None: ...

    def deliver(self, payload: str) -> None: ...

    def __len__(self) -> int: ...


class LocalBackend:
    """The clients of this process, each with its bounded queue."""

    def __init__(self) -> None:
        self.clients: set[Client] = set()

    def add(self, client: Client) -> None:
        self.clients.add(client)

    def discard(self, client: Client) -> None:
        self.clients.discard(client)

    def __len__(self) -> int:
        return len(self.clients)

    def deliver(self, payload: str) -> None:
        for client in self.clients:
            client.offer(payload)


class Hub:
    def __init__(self, queue_size: int, backend: Backend | None = None) -> None:
        self.queue_size = queue_size
        self.backend: Backend = backend or LocalBackend()
        self.dropped = 0

    def __len__(self) -> int:
        """Clients connected to this process."""
        return len(self.backend)

    def publish(self, message: Message) -> None:
        """Encode once and offer to every client, without waiting on any."""
        if not len(self.backend):
            return
        self.backend.deliver(encode(message))

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Client]:
        """A client for one WebSocket; it is always forgotten on the way out."""
        client = Client(self.queue_size)
        self.backend.add(client)
        try:
            yield client
        finally:
            self.backend.discard(client)
            if client.dropped:
                self.dropped += 1
