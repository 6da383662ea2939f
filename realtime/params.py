"""Parsing of query parameters: times, point counts, series lists."""

from __future__ import annotations

import math
import re
from datetime import datetime

from realtime.errors import ApiError
from realtime.times import HOUR_US, us_from_dt

__all__ = ["parse_points", "parse_time", "parse_window"]

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# datetime's own range, in epoch milliseconds.
_MIN_MS = -62_135_596_800_000
_MAX_MS = 253_402_300_799_999


def parse_time(raw: str, name: str) -> int:
    """ISO 8601 (naive means UTC) or epoch milliseconds → epoch microseconds."""
    text = raw.strip()
    bad = ApiError(400, f"'{name}' must be an ISO 8601 time or epoch milliseconds, got {raw!r}", name)
    if _NUMBER.match(text):
        ms = float(text)
        if not math.isfinite(ms) or not _MIN_MS <= ms <= _MAX_MS:
            raise bad
        return round(ms * 1000)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise bad from None
    return us_from_dt(when)  # naive means UTC


def parse_window(start_raw: str | None, end_raw: str | None, newest: int | None) -> tuple[int, int] | None:
    """Resolve an inclusive [start, end] in µs; default: the hour ending at ``newest``.

    Returns None when no bound is given and there is no data to anchor on.
    """
    start = parse_time(start_raw, "start") if start_raw else None
    end = parse_time(end_raw, "end") if end_raw else None
    if start is None and end is None:
        if newest is None:
            return None
        return newest - HOUR_US, newest
    if start is None:
        assert end is not None
        start = end - HOUR_US
    elif end is None:
        end = start + HOUR_US
    if start > end:
        raise ApiError(400, "'start' must not be after 'end'", "start")
    return start, end


def parse_points(raw: str | None, default: int, maximum: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ApiError(400, f"'points' must be a positive integer, got {raw!r}", "points")
    points = int(text)
    if points <= 0:
        raise ApiError(400, f"'points' must be a positive integer, got {raw!r}", "points")
    return min(points, maximum)
