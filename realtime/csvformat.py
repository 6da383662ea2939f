"""CSV text for slabs of rows: ``wide`` (one line per instant) or ``long`` (one per sample).

Pure functions of numpy columns, with no I/O: the export view streams what
they return.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from realtime.rows import F64, I64, Rows
from realtime.times import iso_column

__all__ = ["csv_field", "header", "lines"]


def csv_field(text: str) -> str:
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def header(layout: str, labels: Sequence[str]) -> str:
    if layout == "wide":
        return "time," + ",".join(csv_field(label) for label in labels) + "\r\n"
    return "series,time,value\r\n"


def lines(layout: str, keys: Sequence[str], slab: list[Rows]) -> str:
    return _wide_lines(slab) if layout == "wide" else _long_lines(keys, slab)


def _values(v: F64) -> list[str]:
    # repr() of a Python float is the shortest text that reads back exactly.
    return ["" if x != x else repr(x) for x in v.tolist()]


def _occurrence(t: I64) -> I64:
    """0 for the first row at an instant, 1 for a second row at it, and so on."""
    if t.size == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.r_[True, t[1:] != t[:-1]]
    idx = np.arange(t.size)
    first: I64 = np.maximum.accumulate(np.where(starts, idx, 0))
    return idx - first


def _wide_lines(slab: list[Rows]) -> str:
    """One line per distinct instant; a series with two rows at one instant adds a line."""
    k = len(slab)
    T = np.concatenate([s[0] for s in slab])
    if T.size == 0:
        return ""
    occ = np.concatenate([_occurrence(s[0]) for s in slab])
    S = np.concatenate([np.full(s[0].size, i, dtype=np.int64) for i, s in enumerate(slab)])
    V = np.concatenate([s[1] for s in slab])
    order = np.lexsort((S, occ, T))
    T, occ, S, V = T[order], occ[order], S[order], V[order]
    new_row = np.r_[True, (T[1:] != T[:-1]) | (occ[1:] != occ[:-1])]
    row = np.cumsum(new_row) - 1
    cells = [[""] * k for _ in range(int(row[-1]) + 1)]
    for r, s, text in zip(row.tolist(), S.tolist(), _values(V), strict=False):
        cells[r][s] = text
    times = iso_column(T[new_row])
    return "".join(f"{tm},{','.join(c)}\r\n" for tm, c in zip(times, cells, strict=False))


def _long_lines(keys: Sequence[str], slab: list[Rows]) -> str:
    T = np.concatenate([s[0] for s in slab])
    if T.size == 0:
        return ""
    S = np.concatenate([np.full(s[0].size, i, dtype=np.int64) for i, s in enumerate(slab)])
    V = np.concatenate([s[1] for s in slab])
    order = np.lexsort((S, T))
    T, S, V = T[order], S[order], V[order]
    return "".join(
        f"{keys[s]},{tm},{val}\r\n" for s, tm, val in zip(S.tolist(), iso_column(T), _values(V), strict=False)
    )
