"""Time conversions: epoch µs ↔ datetime ↔ ISO 8601 ↔ CSV and file-name text.

The store counts epoch microseconds (UTC); the wire speaks epoch
milliseconds; people read ISO 8601. Every conversion lives here.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from typing import Literal

import numpy as np
import numpy.typing as npt

from realtime.rows import F64, I64

__all__ = [
    "HOUR_US",
    "MAX_US",
    "MINUTE_US",
    "MIN_US",
    "UNIX_EPOCH",
    "dt_from_us",
    "file_stamp",
    "format_iso",
    "iso_column",
    "now_us",
    "parse_iso",
    "us_from_dt",
    "us_from_wire",
    "wire_ms",
    "wire_ms1",
]

if sys.version_info >= (3, 11):
    _fromisoformat = datetime.fromisoformat
else:  # 3.10's fromisoformat takes only what isoformat() writes: use 3.11's, backported
    from backports.datetime_fromisoformat import datetime_fromisoformat as _backport  # type: ignore[import-untyped]

    def _fromisoformat(text: str) -> datetime:
        result: datetime = _backport(text)
        return result


MINUTE_US = 60_000_000
HOUR_US = 3_600_000_000
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# datetime's own range, in epoch µs: 0001-01-01 to 9999-12-31T23:59:59.999999.
MIN_US = -62_135_596_800_000_000
MAX_US = 253_402_300_799_999_999


def parse_iso(text: str) -> datetime:
    """Every ISO 8601 form Python 3.11's ``fromisoformat`` reads, on 3.10 too; raises ValueError."""
    if not text.isascii():
        raise ValueError("not ASCII")
    return _fromisoformat(text)


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


def wire_ms(t: I64) -> I64 | F64:
    """Epoch µs as the wire's epoch ms: integers, or fractions where a row has µs precision.

    A double holds epoch ms to better than a microsecond, so a browser can
    send a time back (``since``) and mean exactly that row.
    """
    if not np.any(t % 1000):
        ms: I64 = t // 1000
        return ms
    frac: F64 = t / 1000.0
    return frac


def wire_ms1(us: int) -> int | float:
    """One time as :func:`wire_ms` writes it."""
    return us // 1000 if us % 1000 == 0 else us / 1000


def us_from_wire(ms: float) -> int:
    """The inverse of :func:`wire_ms` for one time."""
    return round(ms * 1000)


def format_iso(us: int | None) -> str | None:
    """Epoch µs → ISO 8601 UTC with millisecond (or µs, when present) precision."""
    if us is None:
        return None
    seconds, micros = divmod(int(us), 1_000_000)
    # isoformat pads the year to four digits; strftime's %Y does not (glibc writes year 401 as "401").
    base = dt_from_us(seconds * 1_000_000).replace(tzinfo=None).isoformat(timespec="seconds")
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
    when = dt_from_us(us - us % 1_000_000)
    return f"{when.year:04d}{when:%m%dT%H%M%S}Z"  # %Y is not padded below year 1000
