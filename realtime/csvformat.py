"""CSV text for slabs of rows: ``wide`` (one line per instant) or ``long`` (one per sample).

Pure functions of numpy columns, with no I/O: the export view runs them in a
worker thread and streams what they return.

Whole columns are formatted at once, never row by row: values through
orjson's native shortest round-trip repr (the digits Python's ``repr``
writes), times by integer arithmetic, and each line assembled in a
zero-padded byte matrix whose padding is then dropped. The text is the same,
byte for byte, as ``repr(value)`` and :func:`realtime.times.iso_column` would
write (``tests/test_csvformat.py`` holds that per-row reference).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import orjson

from realtime.rows import F64, I64, Rows
from realtime.times import iso_column

__all__ = ["csv_field", "header", "lines", "safe_cell"]

U8 = npt.NDArray[np.uint8]

# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Python's repr writes fixed notation for 1e-4 <= |x| < 1e16; orjson's digits match it there.
_FIXED_LOW, _FIXED_HIGH = 1e-4, 1e16
# Epoch µs of 1000-01-01 and 10000-01-01: the years written as four digits by the fast path.
_Y1000_US, _Y10000_US = -30_610_224_000_000_000, 253_402_300_800_000_000
_COMMA, _CR, _LF, _NUL = 44, 13, 10, 0


def csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def safe_cell(text: str) -> str:
    """Configuration text as a CSV cell a spreadsheet shows and never evaluates."""
    return csv_field("'" + text if text.startswith(_FORMULA_START) else text)


def header(layout: str, labels: Sequence[str]) -> str:
    if layout == "wide":
        return "time," + ",".join(safe_cell(label) for label in labels) + "\r\n"
    return "series,time,value\r\n"


def lines(layout: str, keys: Sequence[str], slab: list[Rows]) -> bytes:
    """The slab's lines as UTF-8; CPU-bound, so callers on the event loop run it in a thread."""
    return _wide_lines(slab) if layout == "wide" else _long_lines(keys, slab)


# -- columns of text, as zero-padded byte matrices -----------------------------------


def _padded(texts: Sequence[bytes]) -> U8:
    """A few byte strings as rows of a zero-padded matrix."""
    width = max((len(b) for b in texts), default=0)
    return np.frombuffer(b"".join(b.ljust(width, b"\0") for b in texts), dtype=np.uint8).reshape(len(texts), width)


def _value_text(v: F64) -> U8:
    """Each value as ``repr`` writes it (NaN, a NULL, as nothing), one zero-padded row per value."""
    n = v.size
    buf = np.frombuffer(orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY), dtype=np.uint8).copy()
    # "[a,b,...]": a value runs from after one separator to the next. Separators become
    # the padding byte, so clamping a row's reads at its end pads it.
    ends = np.flatnonzero((buf == _COMMA) | (buf == ord("]"))).astype(np.int32)
    buf[ends] = _NUL
    starts = np.empty(n, dtype=np.int32)
    starts[:1] = 1
    starts[1:] = ends[:-1] + 1
    nan = np.isnan(v)
    starts[nan] = ends[nan]  # orjson's "null": nothing
    # Exponent notation, infinities: orjson spells them unlike repr; these few go one by one.
    a = np.abs(v)
    odd = np.flatnonzero(~(((a >= _FIXED_LOW) & (a < _FIXED_HIGH)) | (a == 0) | nan))
    extra = [repr(x).encode() for x in v[odd].tolist()]
    width = max(int((ends - starts).max(initial=0)), max((len(b) for b in extra), default=0))
    idx = np.add.outer(starts, np.arange(width, dtype=np.int32))
    np.minimum(idx, ends[:, None], out=idx)
    text: U8 = buf.take(idx)
    if extra:
        fixed = _padded(extra)
        text[odd] = _NUL
        text[odd, : fixed.shape[1]] = fixed
    return text


def _digit_table(count: int, width: int) -> U8:
    """Row i: i as ``width`` zero-padded ASCII digits."""
    x = np.arange(count, dtype=np.int64)
    table = np.empty((count, width), dtype=np.uint8)
    for i in range(width - 1, -1, -1):
        table[:, i] = 48 + x % 10
        x //= 10
    return table


# Row s: "HH:MM:SS" for second s of a day, as one 8-byte word; rows of "fff" for fractions.
_CLOCK = np.concatenate(
    [
        _digit_table(24, 2).repeat(3600, axis=0),
        np.full((86_400, 1), ord(":"), dtype=np.uint8),
        np.tile(_digit_table(60, 2).repeat(60, axis=0), (24, 1)),
        np.full((86_400, 1), ord(":"), dtype=np.uint8),
        np.tile(_digit_table(60, 2), (24 * 60, 1)),
    ],
    axis=1,
).view(np.uint64)[:, 0]
_MILLI = _digit_table(1000, 3)


def _dates(days: I64) -> U8:
    """Days since the epoch as "YYYY-MM-DDT" (H. Hinnant's civil-from-days, on a column)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    out = np.empty((days.size, 11), dtype=np.uint8)
    out[:, 4] = out[:, 7] = ord("-")
    out[:, 10] = ord("T")
    out[:, 0:4] = _year_digits(year)
    out[:, 5:7] = _MILLI[month][:, 1:]
    out[:, 8:10] = _MILLI[day][:, 1:]
    return out


def _year_digits(year: I64) -> U8:
    out = np.empty((year.size, 4), dtype=np.uint8)
    out[:, 0] = 48 + year // 1000
    out[:, 1:] = _MILLI[year % 1000]
    return out


def _time_text(t: I64) -> U8:
    """Epoch µs as :func:`iso_column` writes them (ms unless a row has µs), one row per time."""
    if t.size == 0 or int(t.min()) < _Y1000_US or int(t.max()) >= _Y10000_US:
        return _padded([s.encode() for s in iso_column(t)])  # years without four digits: rare, row by row
    micro = bool(np.any(t % 1000))
    days, us = np.divmod(t, 86_400_000_000)
    # Rows come sorted, so a day's date text is computed once and repeated.
    if days[0] == days[-1]:
        date = np.broadcast_to(_dates(days[:1]), (t.size, 11))
    else:
        first = np.r_[True, days[1:] != days[:-1]]
        date = _dates(days[first])[np.cumsum(first) - 1]
    width = 27 if micro else 24
    out = np.empty((t.size, width), dtype=np.uint8)
    out[:, :11] = date
    secs, frac = np.divmod(us, 1_000_000)
    out[:, 11:19] = _CLOCK[secs].view(np.uint8).reshape(-1, 8)
    out[:, 19] = ord(".")
    if micro:
        out[:, 20:23] = _MILLI[frac // 1000]
        out[:, 23:26] = _MILLI[frac % 1000]
    else:
        out[:, 20:23] = _MILLI[frac // 1000]
    out[:, -1] = ord("Z")
    return out


def _joined(matrix: U8) -> bytes:
    """The lines of a zero-padded matrix, padding dropped."""
    flat = matrix.reshape(-1)
    text: bytes = flat[flat != _NUL].tobytes()
    return text


# -- layouts -------------------------------------------------------------------------


def _occurrence(t: I64) -> I64:
    """0 for the first row at an instant, 1 for a second row at it, and so on."""
    if t.size == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.r_[True, t[1:] != t[:-1]]
    idx = np.arange(t.size)
    first: I64 = np.maximum.accumulate(np.where(starts, idx, 0))
    return idx - first


def _wide_lines(slab: list[Rows]) -> bytes:
    """One line per distinct instant; a series with two rows at one instant adds a line."""
    k = len(slab)
    T = np.concatenate([s[0] for s in slab])
    if T.size == 0:
        return b""
    occ = np.concatenate([_occurrence(s[0]) for s in slab])
    S = np.concatenate([np.full(s[0].size, i, dtype=np.int64) for i, s in enumerate(slab)])
    V = np.concatenate([s[1] for s in slab])
    # Slabs are concatenated by series, so a stable sort on time alone orders by (time, series).
    order = np.argsort(T, kind="stable") if not occ.any() else np.lexsort((S, occ, T))
    T, occ, S, V = T[order], occ[order], S[order], V[order]
    new_row = np.r_[True, (T[1:] != T[:-1]) | (occ[1:] != occ[:-1])]
    row = np.cumsum(new_row) - 1
    times = _time_text(T[new_row])
    values = _value_text(V)
    tw, vw = times.shape[1], values.shape[1]
    out = np.zeros((times.shape[0], tw + k * (1 + vw) + 2), dtype=np.uint8)
    out[:, :tw] = times
    cells = out[:, tw : tw + k * (1 + vw)].reshape(-1, k, 1 + vw)
    cells[:, :, 0] = _COMMA
    cells[row, S, 1:] = values
    out[:, -2] = _CR
    out[:, -1] = _LF
    return _joined(out)


def _long_lines(keys: Sequence[str], slab: list[Rows]) -> bytes:
    T = np.concatenate([s[0] for s in slab])
    if T.size == 0:
        return b""
    S = np.concatenate([np.full(s[0].size, i, dtype=np.int64) for i, s in enumerate(slab)])
    V = np.concatenate([s[1] for s in slab])
    if len(slab) > 1:
        order = np.argsort(T, kind="stable")  # concatenated by series: this orders by (time, series)
        T, S, V = T[order], S[order], V[order]
    names = _padded([(safe_cell(key) + ",").encode() for key in keys[: len(slab)]])
    times = _time_text(T)
    values = _value_text(V)
    nw, tw, vw = names.shape[1], times.shape[1], values.shape[1]
    out = np.empty((T.size, nw + tw + 1 + vw + 2), dtype=np.uint8)
    out[:, :nw] = names[S] if len(slab) > 1 else names[0]
    out[:, nw : nw + tw] = times
    out[:, nw + tw] = _COMMA
    out[:, nw + tw + 1 : -2] = values
    out[:, -2] = _CR
    out[:, -1] = _LF
    return _joined(out)
