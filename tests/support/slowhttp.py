"""A download that reads as slowly as a test wants, or not at all, on a raw socket."""

from __future__ import annotations

import socket
import struct
import time
from urllib.parse import urlencode

__all__ = ["SlowDownload"]


class SlowDownload:
    """Sends a GET and reads only what it is told to; a tiny receive window keeps the server waiting."""

    def __init__(self, port: int, path: str, params: dict[str, str], *, source: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.bind((source, 0))
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        target = f"{path}?{urlencode(params)}"
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        self.received = b""

    def read(self, nbytes: int, timeout: float = 10.0) -> bytes:
        """Read until ``nbytes`` in all have arrived (or the server closes)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < nbytes and time.monotonic() < deadline:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.received += chunk
        return self.received

    @property
    def status(self) -> int:
        self.read(12)
        return int(self.received[9:12])

    def close(self) -> None:
        # Reset, as a browser tab that is closed mid-download does: nothing left to drain.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()
