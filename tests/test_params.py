"""Query parameter parsing."""

from __future__ import annotations

import pytest

from realtime.errors import ApiError
from realtime.params import parse_points, parse_time, parse_window
from realtime.times import HOUR_US, format_iso


@pytest.mark.parametrize(
    ("raw", "us"),
    [
        ("0", 0),
        ("1700000000123", 1_700_000_000_123_000),
        ("1700000000123.5", 1_700_000_000_123_500),
        ("2023-11-14T22:13:20Z", 1_700_000_000_000_000),
        ("2023-11-14T22:13:20.123Z", 1_700_000_000_123_000),
        ("2023-11-14T22:13:20", 1_700_000_000_000_000),
        ("2023-11-14T23:13:20+01:00", 1_700_000_000_000_000),
        ("2023-11-14", 1_699_920_000_000_000),
    ],
)
def test_parse_time_accepts_iso_and_epoch_ms(raw: str, us: int) -> None:
    assert parse_time(raw, "start") == us


@pytest.mark.parametrize("raw", ["", "abc", "2023-02-30", "1e400", "nan", "inf", "12:00"])
def test_parse_time_rejects_garbage_naming_the_parameter(raw: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_time(raw, "end")
    assert err.value.status == 400
    assert err.value.parameter == "end"


def test_window_defaults() -> None:
    assert parse_window(None, None, None) is None
    assert parse_window(None, None, 10 * HOUR_US) == (9 * HOUR_US, 10 * HOUR_US)
    assert parse_window("0", None, None) == (0, HOUR_US)
    assert parse_window(None, "3600000", None) == (0, HOUR_US)
    with pytest.raises(ApiError) as err:
        parse_window("10", "5", None)
    assert err.value.parameter == "start"


def test_points() -> None:
    assert parse_points(None, 1000, 10_000) == 1000
    assert parse_points("640", 1000, 10_000) == 640
    assert parse_points("99999", 1000, 10_000) == 10_000
    for bad in ("0", "-1", "x", "2.5"):
        with pytest.raises(ApiError):
            parse_points(bad, 1000, 10_000)


def test_format_iso() -> None:
    assert format_iso(None) is None
    assert format_iso(1_700_000_000_123_000) == "2023-11-14T22:13:20.123Z"
    assert format_iso(1_700_000_000_123_456) == "2023-11-14T22:13:20.123456Z"
