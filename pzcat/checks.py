"""Checks of one table's values, streamed batch by batch.

Pure functions over one batch return counts and first offending rows; :class:`ValueChecks`
accumulates them over the whole table so memory stays flat. Value ranges and vocabularies come
from :mod:`pzcat.vocab`, sentinels from :mod:`pzcat.sentinels`; row numbers start at 1
(``vocab.ROW_BASE``).

Missing values are not errors: a redshift column with missing values gives the warning
``missing-redshift`` (``missing-values`` for z_err and z_flag); only a column with no usable value
at all is an error (``nan-redshift`` for z, ``no-values`` for z_err and z_flag).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pzcat import sentinels, vocab

Z_FLAG_VOCAB = set(vocab.Z_FLAGS)
TYPE_VOCAB = set(vocab.TYPES)
FIRST_ROWS = 5


@dataclass
class Tally:
    """Offending rows of one check: how many, the first few (row numbers from 1), their values."""

    count: int = 0
    rows: list[int] = field(default_factory=list)
    examples: list[object] = field(default_factory=list)
    values: Counter = field(default_factory=Counter)

    def add(self, mask: np.ndarray, offset: int, values: pd.Series | None = None) -> None:
        n = int(mask.sum())
        if not n:
            return
        self.count += n
        if len(self.rows) < FIRST_ROWS:
            idx = np.flatnonzero(mask)[: FIRST_ROWS - len(self.rows)]
            self.rows.extend(vocab.row_number(int(i) + offset) for i in idx)
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
        Role -> column name for the roles that have value rules (ra, dec, z, z_err, z_flag) plus
        the homogenized flag columns when present (``z_flag_homogenized``, ``type_homogenized``).
    magnitudes : list of str
        Other columns checked for magnitude sentinels (99, -99, 99.99, ...).
    """

    roles: dict[str, str]
    magnitudes: list[str] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=dict)
    non_numeric: set[str] = field(default_factory=set)
    rows: int = 0
    usable: Counter = field(
        default_factory=Counter
    )  # role -> rows with a real (non-sentinel) value

    def _tally(self, code: str, role: str) -> Tally:
        return self.tallies.setdefault(f"{code}:{role}", Tally())

    def _sentinels(
        self, arr: np.ndarray, kind: str, key: str, offset: int, series: pd.Series
    ) -> np.ndarray:
        mask = sentinels.sentinel_mask(arr, kind)
        if mask.any():
            tally = self._tally("sentinel-values", key)
            tally.add(mask, offset, series)
            tally.values.update(sentinels.found(arr[mask], kind))
        return mask

    def update(self, batch: pd.DataFrame) -> None:
        """Check one batch (its rows follow those already seen)."""
        offset = self.rows
        self.rows += len(batch)
        for role, column in self.roles.items():
            if column not in batch.columns:
                continue
            series = batch[column]
            if role in vocab.NUMERIC_ROLES:
                values = _numeric(series)
                if values is None:
                    self.non_numeric.add(role)
                    continue
                arr = values.to_numpy()
                nan = np.isnan(arr)
                if role in ("ra", "dec"):
                    self._tally("null-coordinate", role).add(nan, offset, series)
                    if role == "ra":
                        bad = ~nan & ~vocab.ra_valid(arr)
                        self._tally("bad-ra-range", role).add(bad, offset, series)
                    else:
                        bad = ~nan & ~vocab.dec_valid(arr)
                        self._tally("bad-dec-range", role).add(bad, offset, series)
                elif role == "z":
                    missing = ~np.isfinite(arr)
                    self._tally("missing-redshift", role).add(missing, offset, series)
                    sent = self._sentinels(arr, "z", role, offset, series)
                    self.usable[role] += int((~missing & ~sent).sum())
                else:
                    sent = self._sentinels(arr, "z_err", role, offset, series)
                    bad = ~nan & ~sent & ((arr < 0) | np.isinf(arr))
                    self._tally("bad-z-err", role).add(bad, offset, series)
                    self._tally("missing-values", role).add(nan, offset, series)
                    self.usable[role] += int((~nan & ~sent & ~bad).sum())
            elif role == "z_flag":
                missing = series.isna().to_numpy()
                if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
                    missing |= (
                        (series.astype("string").str.strip() == "")
                        .fillna(False)
                        .to_numpy(dtype=bool)
                    )
                    sent = np.zeros(len(series), dtype=bool)
                else:
                    arr = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
                    sent = self._sentinels(arr, "z_flag", role, offset, series)
                self._tally("missing-values", role).add(missing, offset, series)
                self.usable[role] += int((~missing & ~sent).sum())
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
        for column in self.magnitudes:
            if column in batch.columns:
                values = _numeric(batch[column])
                if values is not None:
                    self._sentinels(
                        values.to_numpy(), "mag", f"mag:{column}", offset, batch[column]
                    )

    def results(self) -> list[tuple[str, str, Tally]]:
        """``(code, column, tally)`` for every check that found offending rows.

        A column with no usable value at all turns its ``missing-*`` warning into the error
        ``nan-redshift`` (z) or ``no-values`` (z_err, z_flag).
        """
        out = []
        for key, tally in self.tallies.items():
            if not tally.count:
                continue
            code, role = key.split(":", 1)
            column = role.split(":", 1)[1] if role.startswith("mag:") else self.roles[role]
            if (
                code in ("missing-redshift", "missing-values")
                and self.rows
                and not self.usable[role]
            ):
                code = "nan-redshift" if role == "z" else "no-values"
            out.append((code, column, tally))
        for role in ("z", "z_err", "z_flag"):
            code = "nan-redshift" if role == "z" else "no-values"
            if (
                role in self.roles
                and self.rows
                and not self.usable[role]
                and role not in self.non_numeric
                and not any(c == code and col == self.roles[role] for c, col, _ in out)
            ):
                # every value is a sentinel
                out.append(
                    (code, self.roles[role], self.tallies.get(f"sentinel-values:{role}", Tally()))
                )
        return out
