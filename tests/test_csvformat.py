"""CSV text for slabs of rows: wide (one line per instant) and long (one per sample)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from realtime.csvformat import csv_field, header, lines
from realtime.rows import Rows

S = 1_000_000  # µs per second
BASE = 1_767_225_600 * S  # 2026-01-01T00:00:00Z


def rows(*pairs: tuple[float, float | None]) -> Rows:
    """(seconds after BASE, value or None) → columns."""
    t = np.array([BASE + round(s * S) for s, _ in pairs], dtype=np.int64)
    v = np.array([np.nan if x is None else x for _, x in pairs], dtype=np.float64)
    return t, v


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("pH", "pH"),
        ("Temperature (°C)", "Temperature (°C)"),
        ("a,b", '"a,b"'),
        ('say "hi"', '"say ""hi"""'),
        ("two\nlines", '"two\nlines"'),
        ("cr\r", '"cr\r"'),
    ],
)
def test_csv_field_quotes_only_when_needed(text: str, field: str) -> None:
    assert csv_field(text) == field
    assert parsed(field + "\r\n") == [[text]]


def test_headers() -> None:
    assert header("wide", ["pH", 'Flow, "main"']) == 'time,pH,"Flow, ""main"""\r\n'
    assert parsed(header("wide", ["pH", 'Flow, "main"'])) == [["time", "pH", 'Flow, "main"']]
    assert header("long", ["ignored"]) == "series,time,value\r\n"


def test_wide_merges_series_by_instant() -> None:
    slab = [rows((0, 1.5), (1, 2.0)), rows((1, 7.25), (2.5, 7.0))]
    assert lines("wide", ["a", "b"], slab) == (
        "2026-01-01T00:00:00.000Z,1.5,\r\n2026-01-01T00:00:01.000Z,2.0,7.25\r\n2026-01-01T00:00:02.500Z,,7.0\r\n"
    )


def test_wide_gives_a_second_row_at_an_instant_its_own_line() -> None:
    """Guards against losing (or overwriting) a duplicate: two rows of one series
    at one instant cannot share a cell, so the second gets a line of its own."""
    slab = [rows((0, 1.0), (0, 2.0), (0, 3.0)), rows((0, 9.0)), rows((0, 5.0), (0, 6.0))]
    assert parsed(lines("wide", ["a", "b", "c"], slab)) == [
        ["2026-01-01T00:00:00.000Z", "1.0", "9.0", "5.0"],
        ["2026-01-01T00:00:00.000Z", "2.0", "", "6.0"],
        ["2026-01-01T00:00:00.000Z", "3.0", "", ""],
    ]


def test_null_is_an_empty_cell_in_both_layouts() -> None:
    slab = [rows((0, None), (1, 4.0))]
    assert lines("wide", ["a"], slab) == "2026-01-01T00:00:00.000Z,\r\n2026-01-01T00:00:01.000Z,4.0\r\n"
    assert lines("long", ["a"], slab) == "a,2026-01-01T00:00:00.000Z,\r\na,2026-01-01T00:00:01.000Z,4.0\r\n"


def test_long_orders_by_time_then_series_and_keeps_duplicates() -> None:
    slab = [rows((1, 1.0), (1, 1.5)), rows((0, 2.0), (1, 3.0))]
    assert parsed(lines("long", ["temperature", "ph"], slab)) == [
        ["ph", "2026-01-01T00:00:00.000Z", "2.0"],
        ["temperature", "2026-01-01T00:00:01.000Z", "1.0"],
        ["temperature", "2026-01-01T00:00:01.000Z", "1.5"],
        ["ph", "2026-01-01T00:00:01.000Z", "3.0"],
    ]


def test_values_read_back_exactly_and_times_keep_microseconds() -> None:
    slab = [rows((0.000001, 0.1 + 0.2), (2, 1e-300), (3, -0.0))]
    out = parsed(lines("long", ["a"], slab))
    assert [r[1] for r in out] == [
        "2026-01-01T00:00:00.000001Z",
        "2026-01-01T00:00:02.000000Z",
        "2026-01-01T00:00:03.000000Z",
    ]
    assert [float(r[2]) for r in out] == [0.1 + 0.2, 1e-300, -0.0]
    assert out[0][2] == "0.30000000000000004"


def test_an_empty_slab_is_no_text() -> None:
    empty = rows()
    assert lines("wide", ["a", "b"], [empty, empty]) == ""
    assert lines("long", ["a"], [empty]) == ""
