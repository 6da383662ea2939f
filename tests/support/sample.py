"""A little data of every kind a route meets, for the contract and fuzz tests.

- temperature: two hours at 1 s with a spike, more rows than the store keeps
  (``STORE_MAX_POINTS`` = 1000), so older windows are read from PostgreSQL;
- ph: every 10 s with a NULL row, two rows sharing a timestamp and a 10-minute outage;
- do: microsecond timestamps (fractional epoch ms on the wire);
- pressure: empty.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from realtime.config import Settings
from tests.support.pg import TestDb, run

__all__ = ["T0", "app_settings", "fill", "ms"]

T0 = datetime(2026, 1, 10, 8, 0, 0)
HOURS = 2


def ms(dt: datetime) -> int:
    return round((dt - datetime(1970, 1, 1)).total_seconds() * 1000)


def fill(db: TestDb) -> None:
    temperature: list[tuple[datetime, float | None]] = [
        (T0 + timedelta(seconds=i), 37.0 + (i % 10) / 10) for i in range(HOURS * 3600)
    ]
    temperature[3000] = (temperature[3000][0], 99.5)
    run(db.insert("temperature", temperature))
    ph: list[tuple[datetime, float | None]] = [
        (T0 + timedelta(seconds=10 * i), 7.0 + i / 1000) for i in range(HOURS * 360) if not 100 <= i < 160
    ]
    ph += [(T0, None), (T0 + timedelta(seconds=50), 6.9)]
    run(db.insert("ph", ph))
    run(db.insert("do", [(T0 + timedelta(seconds=i, microseconds=250 * i + 7), 40.0 + i) for i in range(600)]))


def app_settings(db: TestDb, **overrides: Any) -> Settings:
    base: dict[str, Any] = {"store_max_points": 1000}
    return db.settings(**{**base, **overrides})
