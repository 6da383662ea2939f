"""Query parameter parsing."""

from __future__ import annotations

import pytest

from realtime.errors import ApiError
from realtime.params import parse_points, parse_time, parse_window
from realtime.times import HOUR_US, MAX_US, MIN_US, format_iso


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
        # Forms Python 3.11's fromisoformat reads and 3.10's did not (CI runs 3.10).
        ("2023-11-14T22:13:20.25", 1_700_000_000_250_000),
        ("2023-11-14T22:13:20.1234567", 1_700_000_000_123_456),
        ("2023-11-14T23:13:20.5+01:00", 1_700_000_000_500_000),
        ("2023-11-14 22:13:20Z", 1_700_000_000_000_000),
        ("20231114T221320", 1_700_000_000_000_000),
        ("2023-11-14T23:13:20.123+0100", 1_700_000_000_123_000),
    ],
)
def test_parse_time_accepts_iso_and_epoch_ms(raw: str, us: int) -> None:
    assert parse_time(raw, "start").us == us


def test_an_end_in_epoch_ms_covers_its_whole_millisecond() -> None:
    """Regression: a row stored at .123400 (PostgreSQL keeps µs) was left out of
    /data and the CSV when `end` was the epoch millisecond holding it, though
    the chart showed it. A whole-ms end now takes in the whole millisecond."""
    assert parse_window("1700000000000", "1700000000123", None) == (1_700_000_000_000_000, 1_700_000_000_123_999)
    # Fractional ms and ISO times are exact.
    assert parse_window("1700000000000", "1700000000123.4", None) == (1_700_000_000_000_000, 1_700_000_000_123_400)
    assert parse_window(None, "2023-11-14T22:13:20.123Z", None) == (1_699_996_400_123_000, 1_700_000_000_123_000)


@pytest.mark.parametrize("raw", ["\uff11\uff12", "\u0661\u0662", "1700000000", "-1700000000", "9" * 80])
def test_parse_time_refuses_lookalikes_and_says_why_briefly(raw: str) -> None:
    """Full-width and Arabic-Indic digits are not read as numbers; epoch seconds
    are not silently read as milliseconds; a huge value is not echoed whole."""
    with pytest.raises(ApiError) as err:
        parse_time(raw, "start")
    assert err.value.status == 400
    assert err.value.parameter == "start"
    assert len(err.value.message) < 160


def test_windows_at_the_edges_of_time_stay_representable() -> None:
    assert parse_window(None, "0001-01-01", None) == (MIN_US, MIN_US)
    assert parse_window("9999-12-31T23:59:59", None, None) == (253_402_300_799_000_000, MAX_US)


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
    assert parse_window(None, "3600000", None) == (0, HOUR_US + 999)
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
