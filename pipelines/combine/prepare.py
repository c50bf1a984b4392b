"""Preparation of one partition of one input: pure functions, no I/O, no Dask.

:func:`prepare_partition` turns a slice of an input's table into the standard columns::

    CRD_ID id ra dec z z_flag z_err survey [instrument_type] source
    z_flag_homogenized type_homogenized [is_in_DP1_fields] [extra priority columns]

``CRD_ID`` is ``first_crd_id + row position``: sequential across inputs in the order given.
Columns an input carries from an earlier combination (CRD_ID, tie_result, compared_to,
group_id) are dropped before anything is computed, so they are recomputed, never mixed in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipelines.combine.errors import ExpressionError, PipelineError
from pipelines.combine.flags import Translation, homogenize
from pipelines.combine.footprint import Fields
from pipelines.combine.inputs import CombineInput
from pzcat import vocab
from pzcat.sentinels import as_missing

#: Columns recomputed by every run; an input's own copies are ignored.
RECOMPUTED = ("CRD_ID", "tie_result", "compared_to", "group_id", "is_in_DP1_fields")
NUMERIC_ROLES = vocab.NUMERIC_ROLES
TEXT = "string"


def _text(values: pd.Series | None, n: int, index: pd.Index, upper: bool = False) -> pd.Series:
    """Normalise text: strip, blanks as null, optionally upper-case."""
    if values is None:
        return pd.Series(pd.NA, index=index, dtype=TEXT)
    out = values.astype(TEXT).str.strip()
    if upper:
        out = out.str.upper()
    return out.mask(out == "", pd.NA)


def _number(values: pd.Series | None, index: pd.Index) -> pd.Series:
    if values is None:
        return pd.Series(np.nan, index=index, dtype="float64")
    if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        values = values.astype(TEXT).str.strip()
    return pd.to_numeric(values, errors="coerce").astype("float64")


def _check_positions(frame: pd.DataFrame, inp: CombineInput, first_row: int) -> None:
    ra, dec = frame["ra"].to_numpy(), frame["dec"].to_numpy()
    bad = ~vocab.ra_valid(ra) | ~vocab.dec_valid(dec)
    if bad.any():
        rows = np.flatnonzero(bad)
        examples = [
            f"row {vocab.row_number(first_row + int(r))}: ra={ra[r]!r}, dec={dec[r]!r}"
            for r in rows[:5]
        ]
        raise PipelineError(
            "invalid-positions",
            f"input {inp.internal_name}: {int(bad.sum())} rows (in a batch of {len(ra)}) have "
            f"missing or out-of-range ra/dec (ra in {vocab.RA_TEXT}, dec in {vocab.DEC_TEXT}); "
            f"examples: {'; '.join(examples)}",
            input=inp.internal_name,
            rows=[vocab.row_number(first_row + int(r)) for r in rows[:20]],
        )


def prepare_partition(
    raw: pd.DataFrame,
    inp: CombineInput,
    first_crd_id: int,
    first_row: int,
    translation: Translation,
    fields: Fields | None,
    extra_columns: tuple[str, ...] = (),
    sentinels: str = "keep",
) -> pd.DataFrame:
    """Prepare one partition of one input.

    Parameters
    ----------
    raw : pandas.DataFrame
        Rows ``first_row ...`` of the input, its own column names.
    inp : CombineInput
        Gives the column association and the ``source`` name.
    first_crd_id : int
        CRD_ID of the partition's first row.
    first_row : int
        0-based position of the partition's first row in the input (for error messages).
    translation : Translation
    fields : Fields or None
        Footprint fields (None: no footprint flag).
    extra_columns : tuple of str
        Input columns kept (as float) because the tiebreaking priority uses them.
    sentinels : {"keep", "missing"}
        ``missing``: sentinel values of z, z_err and z_flag (:mod:`pzcat.sentinels`) become NaN
        before the flags are translated (the configuration key ``sentinels``).

    Returns
    -------
    pandas.DataFrame
        Standard columns with a RangeIndex.

    Raises
    ------
    PipelineError
        ``invalid-positions`` and the homogenization errors of :func:`flags.homogenize`.
    """
    raw = raw.reset_index(drop=True)
    index = raw.index

    def col(role: str) -> pd.Series | None:
        name = inp.column(role)
        return raw[name] if name is not None and name in raw.columns else None

    out: dict[str, Any] = {
        "CRD_ID": np.arange(first_crd_id, first_crd_id + len(raw), dtype="int64"),
        "id": _text(col("id"), len(raw), index),
        "ra": _number(col("ra"), index),
        "dec": _number(col("dec"), index),
        "z": _number(col("z"), index),
        "z_flag": _number(col("z_flag"), index),
        "z_err": _number(col("z_err"), index),
        "survey": _text(col("survey"), len(raw), index, upper=True),
    }
    if sentinels == "missing":
        for role in ("z", "z_err", "z_flag"):
            out[role] = pd.Series(as_missing(out[role].to_numpy(), role)[0], index=index)
    out["instrument_type"] = _text(col("instrument_type"), len(raw), index)  # dropped if empty
    out["source"] = pd.Series(inp.internal_name, index=index, dtype=TEXT)
    frame = pd.DataFrame(out, index=index)
    _check_positions(frame, inp, first_row)

    # expressions see the standard columns over the input's own columns
    # (an earlier combination's CRD_ID, tie_result... may be read through the association, e.g.
    # id -> CRD_ID, but never carried over)
    names = raw.drop(columns=[c for c in (*frame.columns, *RECOMPUTED) if c in raw.columns])
    context = pd.concat([frame, names], axis=1)
    flag_col = col("z_flag")
    if flag_col is not None and sentinels == "missing" and pd.api.types.is_numeric_dtype(flag_col):
        flag_col = pd.Series(as_missing(flag_col.to_numpy(), "z_flag")[0], index=index)
    context["z_flag_raw"] = flag_col if flag_col is not None else pd.Series(np.nan, index=index)
    zfh, typ = homogenize(context, inp.internal_name, translation)
    frame["z_flag_homogenized"] = zfh
    frame["type_homogenized"] = pd.Series(typ, index=index, dtype=TEXT)
    if fields is not None:
        frame[fields.flag] = fields.contains(frame["ra"].to_numpy(), frame["dec"].to_numpy())
    for name in extra_columns:
        frame[name] = _number(raw[name] if name in raw.columns else None, index)
    return frame


def prepare_checked(
    raw: pd.DataFrame, inp: CombineInput, *args: Any, **kwargs: Any
) -> pd.DataFrame:
    """:func:`prepare_partition`, with a rule reading a column the input lacks reported as the
    input's ``missing-column`` (the plan's scan and the *prepare* tasks report it the same way).
    """
    try:
        return prepare_partition(raw, inp, *args, **kwargs)
    except ExpressionError as exc:
        if exc.code != "unknown-column":
            raise
        raise PipelineError(
            "missing-column",
            f"input {inp.internal_name}: {exc.message}",
            input=inp.internal_name,
            column=exc.context.get("column"),
        ) from exc


def apply_cut(frame: pd.DataFrame, cut: int | None) -> pd.DataFrame:
    """Keep rows with ``z_flag_homogenized >= cut`` (all rows when ``cut`` is None)."""
    if cut is None:
        return frame
    return frame.loc[frame["z_flag_homogenized"].to_numpy() >= cut].reset_index(drop=True)
