"""Checks of one table's values, streamed batch by batch.

Pure functions over one batch return counts and first offending rows; :class:`ValueChecks`
accumulates them over the whole table so memory stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

Z_FLAG_VOCAB = {0, 1, 2, 3, 4, 6}
TYPE_VOCAB = {"s", "g", "p"}
FIRST_ROWS = 5


@dataclass
class Tally:
    """Offending rows of one check: how many and the first few (0-based row numbers)."""

    count: int = 0
    rows: list[int] = field(default_factory=list)
    examples: list[object] = field(default_factory=list)

    def add(self, mask: np.ndarray, offset: int, values: pd.Series | None = None) -> None:
        n = int(mask.sum())
        if not n:
            return
        self.count += n
        if len(self.rows) < FIRST_ROWS:
            idx = np.flatnonzero(mask)[: FIRST_ROWS - len(self.rows)]
            self.rows.extend(int(i) + offset for i in idx)
            if values is not None:
                self.examples.extend(_plain(v) for v in values.iloc[idx])


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _numeric(series: pd.Series) -> pd.Series | None:
    if pd.api.types.is_bool_dtype(series.dtype):
        return None
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64")
    return None


@dataclass
class ValueChecks:
    """Accumulated value checks for the roles of one table.

    Parameters
    ----------
    roles : dict
        Role -> column name for the roles that have value rules (ra, dec, z, z_err) plus the
        homogenized flag columns when present (``z_flag_homogenized``, ``type_homogenized``).
    """

    roles: dict[str, str]
    tallies: dict[str, Tally] = field(default_factory=dict)
    non_numeric: set[str] = field(default_factory=set)
    rows: int = 0

    def _tally(self, code: str, role: str) -> Tally:
        return self.tallies.setdefault(f"{code}:{role}", Tally())

    def update(self, batch: pd.DataFrame) -> None:
        """Check one batch (its rows follow those already seen)."""
        offset = self.rows
        self.rows += len(batch)
        for role, column in self.roles.items():
            if column not in batch.columns:
                continue
            series = batch[column]
            if role in ("ra", "dec", "z", "z_err"):
                values = _numeric(series)
                if values is None:
                    self.non_numeric.add(role)
                    continue
                arr = values.to_numpy()
                if role in ("ra", "dec"):
                    nan = np.isnan(arr)
                    self._tally("null-coordinate", role).add(nan, offset, series)
                    if role == "ra":
                        bad = ~nan & ((arr < 0) | (arr >= 360))
                        self._tally("bad-ra-range", role).add(bad, offset, series)
                    else:
                        bad = ~nan & ((arr < -90) | (arr > 90))
                        self._tally("bad-dec-range", role).add(bad, offset, series)
                elif role == "z":
                    self._tally("nan-redshift", role).add(~np.isfinite(arr), offset, series)
                else:
                    bad = ~np.isnan(arr) & ((arr < 0) | np.isinf(arr))
                    self._tally("bad-z-err", role).add(bad, offset, series)
            elif role == "z_flag_homogenized":
                values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
                present = series.notna().to_numpy()
                bad = present & ~np.isin(values, list(Z_FLAG_VOCAB))
                self._tally("bad-z-flag-homogenized", role).add(bad, offset, series)
            elif role == "type_homogenized":
                text = series.astype("str").str.strip().str.lower()
                present = series.notna().to_numpy()
                bad = present & ~text.isin(TYPE_VOCAB).to_numpy()
                self._tally("bad-type-homogenized", role).add(bad, offset, series)

    def results(self) -> list[tuple[str, str, Tally]]:
        """``(code, column, tally)`` for every check that found offending rows."""
        out = []
        for key, tally in self.tallies.items():
            if tally.count:
                code, role = key.split(":", 1)
                out.append((code, self.roles[role], tally))
        return out
