"""What the fan-out benchmark and its reconnect storm share: the tables, the writer, the measures."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from tests.support.pg import TestDb

__all__ = ["TABLES", "pct", "proc_cpu", "proc_rss", "write_rows"]

TABLES = ("temperature", "ph", "do", "pressure")


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def write_rows(db: TestDb, seconds: float, first_id: int, committed: dict[int, float]) -> None:
    """4 tables x 2 rows/s, each row's value its id; records each commit's time."""
    conn = await db.connect()
    try:
        row = first_id
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.125)
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            await conn.execute(f"INSERT INTO {db.qualified(TABLES[row % 4])} VALUES ($1, $2)", now, float(row))
            committed[row] = time.perf_counter()
            row += 1
    finally:
        await conn.close()


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))] if xs else float("nan")
