"""Time conversions: epoch µs ↔ datetime ↔ ISO 8601 ↔ CSV and file-name text.

The store counts epoch microseconds (UTC); the wire speaks epoch
milliseconds; people read ISO 8601. Every conversion lives here.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Literal

import numpy as np
import numpy.typing as npt

from realtime.rows import I64

__all__ = [
    "HOUR_US",
    "MINUTE_US",
    "UNIX_EPOCH",
    "dt_from_us",
    "file_stamp",
    "format_iso",
    "iso_column",
    "now_us",
    "us_from_dt",
]

MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def now_us() -> int:
    return us_from_dt(datetime.now(timezone.utc))


def dt_from_us(us: int) -> datetime:
    return UNIX_EPOCH + timedelta(microseconds=int(us))


def us_from_dt(value: datetime) -> int:
    """Epoch µs of a datetime; a naive one is UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - UNIX_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_iso(us: int | None) -> str | None:
    """Epoch µs → ISO 8601 UTC with millisecond (or µs, when present) precision."""
    if us is None:
        return None
    seconds, micros = divmod(int(us), 1_000_000)
    base = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{micros // 1000:03d}" if micros % 1000 == 0 else f"{micros:06d}"
    return f"{base}.{frac}Z"


def iso_column(t: I64) -> list[str]:
    """A column of epoch µs as ISO 8601 UTC text: ms precision unless a row has µs."""
    unit: Literal["ms", "us"] = "ms" if not np.any(t % 1000) else "us"
    stamps: npt.NDArray[np.datetime64] = t.astype("datetime64[us]")
    text = np.datetime_as_string(stamps, unit=unit)
    return [s + "Z" for s in text.tolist()]


def file_stamp(us: int) -> str:
    """Compact UTC text for file names, e.g. 20261201T143000Z."""
    return datetime.fromtimestamp(us // 1_000_000, tz=timezone.utc).strftime("%Y%m%dT%H%M%SZ")
