"""The binary COPY format: what the simulator writes, the decoder reads back."""

from __future__ import annotations

import numpy as np
import pytest

from realtime.pgcopy import HEADER, TRAILER, CopyDecoder, encode_rows
from realtime.rows import Rows
from tests.support.pg import TestDb, run


def _decode(stream: bytes, step: int) -> Rows:
    decoder = CopyDecoder()
    for i in range(0, len(stream), step):
        decoder.feed(stream[i : i + step])
    return decoder.finish()


@pytest.mark.parametrize("step", [1, 7, 26, 1 << 22])
def test_round_trip_in_any_chunking(step: int) -> None:
    t = np.array([-1, 0, 946_684_800_000_000, 1_764_000_000_123_456], dtype=np.int64)
    v = np.array([1.5, np.nan, -0.0, 1e300])
    got_t, got_v = _decode(HEADER + encode_rows(t, v) + TRAILER, step)
    assert got_t.tolist() == t.tolist()
    assert np.array_equal(got_v, v, equal_nan=True)


def test_rejects_garbage_and_truncation() -> None:
    with pytest.raises(ValueError, match="binary COPY"):
        _decode(b"definitely not a copy stream", 1 << 20)
    one_row = encode_rows(np.array([0], dtype=np.int64), np.array([1.0]))
    with pytest.raises(ValueError, match="truncated"):
        _decode(HEADER + one_row[:-3], 1 << 20)


def test_decodes_what_postgresql_writes(db: TestDb) -> None:
    """The decoder against the server's own COPY output, µs and NULLs included."""

    async def read() -> bytes:
        conn = await db.connect()
        chunks: list[bytes] = []

        async def sink(chunk: bytes) -> None:
            chunks.append(chunk)

        try:
            await conn.copy_from_query(
                "SELECT t::timestamptz, coalesce(v, 'NaN') FROM (VALUES "
                "('2026-01-01 00:00:00.000001+00', 1.25::float8), ('1999-12-31 23:59:59+00', NULL)) AS x(t, v)",
                output=sink,
                format="binary",
            )
        finally:
            await conn.close()
        return b"".join(chunks)

    t, v = _decode(run(read()), 5)
    assert t.tolist() == [1_767_225_600_000_001, 946_684_799_000_000]
    assert v[0] == 1.25
    assert np.isnan(v[1])
