"""CSV text for slabs of rows: wide (one line per instant) and long (one per sample)."""

from __future__ import annotations

import csv
import io
import sys
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime.csvformat import csv_field, header, safe_cell
from realtime.csvformat import lines as csv_lines
from realtime.rows import F64, I64, Rows
from realtime.times import MAX_US, MIN_US, iso_column

S = 1_000_000  # µs per second
BASE = 1_767_225_600 * S  # 2026-01-01T00:00:00Z


def rows(*pairs: tuple[float, float | None]) -> Rows:
    """(seconds after BASE, value or None) → columns."""
    t = np.array([BASE + round(s * S) for s, _ in pairs], dtype=np.int64)
    v = np.array([np.nan if x is None else x for _, x in pairs], dtype=np.float64)
    return t, v


def parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def lines(layout: str, keys: Sequence[str], slab: list[Rows]) -> str:
    return csv_lines(layout, keys, slab).decode()


# -- the per-row formatter the vectorised one replaced: the reference for its bytes -----


def _ref_values(v: F64) -> list[str]:
    return ["" if x != x else repr(x) for x in v.tolist()]


def _ref_occurrence(t: I64) -> I64:
    """Row by row: how many rows at the same instant came before (a series' times are sorted)."""
    seen: Counter[int] = Counter()
    out = []
    for x in t.tolist():
        out.append(seen[x])
        seen[x] += 1
    return np.array(out, dtype=np.int64)


def reference(layout: str, keys: Sequence[str], slab: list[Rows]) -> bytes:
    T = np.concatenate([s[0] for s in slab])
    if T.size == 0:
        return b""
    S = np.concatenate([np.full(s[0].size, i, dtype=np.int64) for i, s in enumerate(slab)])
    V = np.concatenate([s[1] for s in slab])
    if layout == "long":
        order = np.lexsort((S, T))
        T, S, V = T[order], S[order], V[order]
        rows = zip(S.tolist(), iso_column(T), _ref_values(V), strict=True)
        return "".join(f"{keys[s]},{tm},{val}\r\n" for s, tm, val in rows).encode()
    occ = np.concatenate([_ref_occurrence(s[0]) for s in slab])
    order = np.lexsort((S, occ, T))
    T, occ, S, V = T[order], occ[order], S[order], V[order]
    new_row = np.r_[True, (T[1:] != T[:-1]) | (occ[1:] != occ[:-1])]
    row = np.cumsum(new_row) - 1
    cells = [[""] * len(slab) for _ in range(int(row[-1]) + 1)]
    for r, s, text in zip(row.tolist(), S.tolist(), _ref_values(V), strict=True):
        cells[r][s] = text
    times = iso_column(T[new_row])
    return "".join(f"{tm},{','.join(c)}\r\n" for tm, c in zip(times, cells, strict=True)).encode()


EDGES = [
    0.0,
    -0.0,
    1e-300,
    -1e-300,
    1e300,
    5e-324,
    2.2250738585072014e-308,
    1e-4,
    9.999999999999999e-05,
    1e16,
    9999999999999998.0,
    1e15,
    0.1 + 0.2,
    37.0,
    -1.5,
    2.0**53,
    float("inf"),
    float("-inf"),
    float("nan"),
    sys.float_info.max,
    123456789.0,
    1e22,
    1e-5,
]
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.integers(-(2**53), 2**53).map(float),
    st.decimals(-10_000, 10_000, places=3, allow_nan=False, allow_infinity=False).map(float),
    st.sampled_from(EDGES),
)
# Epoch µs across datetime's range, whole milliseconds (the usual case), and near today.
times_us = st.one_of(
    st.integers(MIN_US, MAX_US),
    st.integers(MIN_US // 1000, MAX_US // 1000).map(lambda ms: ms * 1000),
    st.integers(1_700_000_000_000, 1_800_000_000_000).map(lambda ms: ms * 1000),
)
series_rows = st.lists(st.tuples(times_us, floats), max_size=40).map(
    lambda pairs: (
        np.array(sorted(t for t, _ in pairs), dtype=np.int64),
        np.array([v for _, v in pairs], dtype=np.float64),
    )
)


@settings(max_examples=400, deadline=None)
@given(st.lists(series_rows, min_size=1, max_size=4), st.sampled_from(["wide", "long"]))
def test_bytes_equal_the_per_row_formatter(slab: list[Rows], layout: str) -> None:
    keys = ["a", "ph", "temperature_2", "do"][: len(slab)]
    assert csv_lines(layout, keys, slab) == reference(layout, keys, slab)


def test_bytes_equal_the_per_row_formatter_on_a_large_random_slab() -> None:
    """Every bit pattern is a double: random ones reach subnormals, huge exponents and NaN payloads."""
    rng = np.random.default_rng(8)
    n = 200_000
    bits = rng.integers(0, 2**63, n, dtype=np.int64).view(np.float64)
    scale = 10.0 ** rng.integers(0, 17, n)
    usual = np.rint(rng.normal(37, 5, n) * scale) / scale  # 0 to 16 decimals
    t = np.sort(rng.integers(1_700_000_000_000_000, 1_800_000_000_000_000, n))
    for v in (bits, usual, usual * 1e-3):
        for layout in ("wide", "long"):
            slab = [(t, v), (t[::3], v[::3])]
            assert csv_lines(layout, ["a", "b"], slab) == reference(layout, ["a", "b"], slab)


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


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("x")', '"\'=HYPERLINK(""x"")"'),
        ("-2+3", "'-2+3"),
        ("+1", "'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", '"\'\rx"'),
        ("pH", "pH"),
        ("a=b", "a=b"),
    ],
)
def test_configuration_text_that_a_spreadsheet_would_evaluate_is_neutralised(text: str, cell: str) -> None:
    assert safe_cell(text) == cell
    assert parsed(header("wide", [text]))[0][1] == "'" + text if text[0] in "=+-@\t\r" else text


def test_series_column_is_neutralised_but_negative_numbers_are_not() -> None:
    slab = [rows((0, -1.5)), rows((0, -2.0))]
    assert parsed(lines("long", ["-2", "ph"], slab)) == [
        ["'-2", "2026-01-01T00:00:00.000Z", "-1.5"],
        ["ph", "2026-01-01T00:00:00.000Z", "-2.0"],
    ]
    assert parsed(lines("wide", ["-2", "ph"], slab)) == [["2026-01-01T00:00:00.000Z", "-1.5", "-2.0"]]
