"""Per-column statistics (min, max, mean, nulls) accumulated batch by batch, in flat memory.

Used by the site (every column of a table) and the previews (the previewed rows). NaN counts as
null; infinities are neither null nor part of min, max and mean. Sentinels of the column's kind
(:mod:`pzcat.sentinels`: z = -1, mag = 99.99, ...) are counted in ``sentinels`` and left out of
min, max and mean. Text columns get a min and max (as text) and no mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pzcat.sentinels import sentinel_mask


class ColumnStats:
    """Statistics of one column.

    Parameters
    ----------
    numeric : bool
        Whether values are numbers (min, max and mean) or text (min and max as text).
    kind : str, optional
        Sentinel kind of the column (``z``, ``z_err``, ``z_flag``, ``mag``; see
        :func:`pzcat.sentinels.kind_for`); None: no value is a sentinel.
    """

    __slots__ = ("count", "kind", "max", "min", "nulls", "numeric", "sentinels", "total")

    def __init__(self, numeric: bool, kind: str | None = None) -> None:
        self.numeric = numeric
        self.kind = kind
        self.sentinels = 0
        self.nulls = 0
        self.count = 0
        self.total = 0.0
        self.min: Any = None
        self.max: Any = None

    def add(self, series: pd.Series) -> None:
        if self.numeric:
            self.add_numbers(series.to_numpy(dtype=float, na_value=np.nan))
        else:
            self.nulls += int(series.isna().sum())
            values = series.dropna()
            if len(values):
                text = values.astype(str)
                self.add_range(text.min(), text.max())

    def add_range(self, lo: Any, hi: Any) -> None:
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)

    def add_arrow(self, arr: pa.Array) -> None:
        if self.numeric:
            self.add_numbers(arr.to_numpy(zero_copy_only=False).astype(float, copy=False))
            return
        self.nulls += arr.null_count
        if arr.null_count < len(arr):
            try:
                mm = pc.min_max(arr)
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
                return
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            if lo is not None:
                self.add_range(str(lo), str(hi))

    def add_numbers(self, arr: np.ndarray) -> None:
        """Numbers with NaN for missing values."""
        self.nulls += int(np.isnan(arr).sum())
        if self.kind is not None:
            mask = sentinel_mask(arr, self.kind)
            if mask.any():
                self.sentinels += int(mask.sum())
                arr = arr[~mask]
        finite = arr[np.isfinite(arr)]
        if finite.size:
            self.add_range(float(finite.min()), float(finite.max()))
            self.total += float(finite.sum())
            self.count += int(finite.size)

    @property
    def mean(self) -> float | None:
        """Mean of the finite numbers seen (None for text or when there are none)."""
        return self.total / self.count if self.numeric and self.count else None
