"""Parsing of query parameters: times, point counts, series lists."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from realtime.errors import ApiError
from realtime.times import HOUR_US, MAX_US, MIN_US, parse_iso, us_from_dt

__all__ = ["Instant", "parse_points", "parse_time", "parse_window", "shown"]

_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
# Epoch numbers in this band are almost surely seconds (1973 to 5138), not
# milliseconds (two days to three years after 1970): refuse the guess.
_SECONDS_LIKE = (1e8, 1e11)
# Longer values are not echoed whole in errors (or in logs through them).
_ECHO = 40


def shown(raw: str) -> str:
    """A value as an error message quotes it: at most 40 characters of it."""
    return repr(raw if len(raw) <= _ECHO else raw[:_ECHO] + "…")


@dataclass(frozen=True)
class Instant:
    us: int
    # Epoch milliseconds given as a whole number: the instant is that whole millisecond.
    whole_ms: bool = False


def parse_time(raw: str, name: str) -> Instant:
    """ISO 8601 (naive means UTC) or epoch milliseconds → epoch µs."""
    text = raw.strip()
    bad = ApiError(400, f"'{name}' must be an ISO 8601 time or epoch milliseconds, got {shown(raw)}", name)
    if len(text) > 64:
        raise bad
    if _NUMBER.fullmatch(text):
        ms = float(text)
        if not math.isfinite(ms) or not MIN_US <= ms * 1000 <= MAX_US:
            raise ApiError(400, f"'{name}' is outside the years 1 to 9999, got {shown(raw)}", name)
        if _SECONDS_LIKE[0] <= abs(ms) < _SECONDS_LIKE[1]:
            raise ApiError(400, f"'{name}' looks like epoch seconds; give epoch milliseconds, got {shown(raw)}", name)
        return Instant(round(ms * 1000), whole_ms=ms == int(ms))
    try:
        when = parse_iso(text)
    except ValueError:
        raise bad from None
    us = us_from_dt(when)  # naive means UTC
    # An offset can move a time at datetime's edge past it (0001-01-01T00:00+14:00 is in year 0).
    if not MIN_US <= us <= MAX_US:
        raise ApiError(400, f"'{name}' is outside the years 1 to 9999, got {shown(raw)}", name)
    return Instant(us)


def parse_window(start_raw: str | None, end_raw: str | None, newest: int | None) -> tuple[int, int] | None:
    """Resolve an inclusive [start, end] in µs; default: the hour ending at ``newest``.

    Returns None when no bound is given and there is no data to anchor on.
    """
    first = parse_time(start_raw, "start") if start_raw else None
    last = parse_time(end_raw, "end") if end_raw else None
    start = first.us if first is not None else None
    # An end in epoch ms takes in its whole millisecond: every row a chart of
    # that window draws, µs-precise rows included.
    end = last.us + (999 if last.whole_ms else 0) if last is not None else None
    if start is None and end is None:
        if newest is None:
            return None
        return newest - HOUR_US, newest
    if start is None:
        assert last is not None
        assert end is not None
        start = last.us - HOUR_US
    elif end is None:
        end = start + HOUR_US
    if start > end:
        raise ApiError(400, "'start' must not be after 'end'", "start")
    # A default bound an hour away may step outside datetime's range.
    return max(start, MIN_US), min(end, MAX_US)


def parse_points(raw: str | None, default: int, maximum: int) -> int:
    """The chart's width in pixels: at least 2 (M4 needs two columns), capped at ``maximum``."""
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not re.fullmatch(r"\+?[0-9]{1,12}", text, re.ASCII) or int(text) < 2:
        raise ApiError(400, f"'points' must be an integer of at least 2, got {shown(raw)}", "points")
    return min(int(text), maximum)
