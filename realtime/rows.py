"""The column types every module shares: a series' rows as two numpy arrays.

``t`` is int64 microseconds since the Unix epoch (UTC); ``v`` is float64,
with NaN standing for a NULL value in the table.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["F64", "I64", "Rows", "empty_rows"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Rows = tuple[I64, F64]


def empty_rows() -> Rows:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
