"""PostgreSQL's binary COPY format for (timestamp, float8) rows, both directions.

A row is: field count (int16 = 2), length (int32 = 8) and microseconds since
2000-01-01 (int64), length (int32 = 8) and an IEEE double, all big-endian.
One numpy record type reads or writes a whole chunk at once, so millions of
rows never become Python objects.
"""

from __future__ import annotations

import struct

import numpy as np

from realtime.rows import F64, I64, Rows

__all__ = ["HEADER", "TRAILER", "CopyDecoder", "encode_rows"]

# PostgreSQL's binary timestamps count microseconds from 2000-01-01.
PG_EPOCH_US = 946_684_800_000_000
SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIGNATURE + struct.pack("!ii", 0, 0)  # flags, header extension length
TRAILER = struct.pack("!h", -1)
_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("t", ">i8"), ("l2", ">i4"), ("v", ">f8")])
# Decode once this much is buffered: large enough for numpy, small enough to stay flat.
_DRAIN_BYTES = 1 << 20


def encode_rows(t: I64, v: F64) -> bytes:
    """Rows (epoch µs, value; NaN is written as NaN, not NULL) as COPY row data."""
    records = np.empty(t.size, dtype=_ROW)
    records["n"] = 2
    records["l1"] = 8
    records["t"] = t - PG_EPOCH_US
    records["l2"] = 8
    records["v"] = v
    return records.tobytes()


class CopyDecoder:
    """Decode a binary COPY stream of (timestamp, float8) rows as it arrives.

    Chunks are decoded into preallocated columns as they come, so a bulk read
    never holds the raw stream (26 bytes a row) beside the result.
    """

    def __init__(self, capacity: int = 0) -> None:
        # Room for 1/8 more rows, so the store can adopt these columns as is.
        capacity = max(capacity + capacity // 8, 1024)
        self._t: I64 = np.empty(capacity, dtype=np.int64)
        self._v: F64 = np.empty(capacity, dtype=np.float64)
        self.n = 0
        self._buf = bytearray()
        self._header = False

    def feed(self, chunk: bytes) -> None:
        self._buf += chunk
        if not self._header:
            if len(self._buf) < 19:
                return
            if bytes(self._buf[:11]) != SIGNATURE:
                raise ValueError("not a binary COPY stream")
            ext = int.from_bytes(self._buf[15:19], "big")
            if len(self._buf) < 19 + ext:
                return
            del self._buf[: 19 + ext]
            self._header = True
        if len(self._buf) >= _DRAIN_BYTES:
            self._drain()

    def _drain(self) -> None:
        k = len(self._buf) // _ROW.itemsize
        if k == 0:
            return
        rec = np.frombuffer(self._buf, dtype=_ROW, count=k)
        if not (np.all(rec["n"] == 2) and np.all(rec["l1"] == 8) and np.all(rec["l2"] == 8)):
            raise ValueError("unexpected row layout in binary COPY stream")
        if self.n + k > self._t.size:
            cap = max(self.n + k, int(self._t.size * 1.25))
            self._t = np.resize(self._t, cap)
            self._v = np.resize(self._v, cap)
        self._t[self.n : self.n + k] = rec["t"]
        self._v[self.n : self.n + k] = rec["v"]
        self.n += k
        del rec
        del self._buf[: k * _ROW.itemsize]

    def finish(self) -> Rows:
        if self._header:
            self._drain()
        # What is left is the 2-byte trailer (-1).
        if self._header and bytes(self._buf) not in (b"", TRAILER):
            raise ValueError("truncated binary COPY stream")
        t = self._t[: self.n]
        t += PG_EPOCH_US
        return t, self._v[: self.n]
