"""The inputs of a run and how their tables are read.

A :class:`CombineInput` is what the pipeline knows of one redshift catalog: its name, version,
files, format and column association. Integration code converts manifests into it.
:func:`load_input` is the one place that reads an input's table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.combine.errors import PipelineError

#: Roles of the column association, in output order.
ROLES = ("id", "ra", "dec", "z", "z_flag", "z_err", "survey", "instrument_type")
REQUIRED_ROLES = ("ra", "dec")
FORMATS = ("parquet", "csv", "fits", "hdf5", "hats")


@dataclass(frozen=True)
class CombineInput:
    """One input catalog of a run.

    Attributes
    ----------
    internal_name : str
        The product's internal name; becomes the ``source`` column.
    version : int
        The product's version (recorded in provenance).
    path : Path
        The table file (or HATS catalog directory).
    format : str
        One of ``parquet``, ``csv``, ``fits``, ``hdf5``, ``hats``.
    columns : dict
        Role -> column name (or None): ``id, ra, dec, z, z_flag, z_err, survey,
        instrument_type``.
    files_sha256 : dict
        File name -> sha256 of the input's files (recorded in provenance).
    """

    internal_name: str
    version: int
    path: Path
    format: str
    columns: dict[str, str | None] = field(default_factory=dict)
    files_sha256: dict[str, str] = field(default_factory=dict)

    def column(self, role: str) -> str | None:
        """Return the column associated with ``role`` (None when not associated)."""
        return self.columns.get(role) or None

    def to_dict(self) -> dict[str, Any]:
        """Return the input as plain data for provenance."""
        return {
            "internal_name": self.internal_name,
            "version": self.version,
            "path": str(self.path),
            "format": self.format,
            "columns": dict(self.columns),
            "files_sha256": dict(self.files_sha256),
        }


def _read_hats(path: Path, columns: list[str] | None) -> pd.DataFrame:
    import lsdb  # heavy import, only for HATS inputs

    catalog = lsdb.read_hats(path, columns=columns)
    frame = catalog.compute()  # reading a HATS input is the runner's work, not a hidden compute
    frame = frame.reset_index(drop=True)
    if "_healpix_29" in frame.columns and (columns is None or "_healpix_29" not in columns):
        frame = frame.drop(columns="_healpix_29")
    return pd.DataFrame(frame)


def _read_fits(path: Path) -> pd.DataFrame:
    from astropy.table import Table

    table = Table.read(path, format="fits")
    names = [n for n in table.colnames if len(table[n].shape) <= 1]
    return table[names].to_pandas()


def load_input(inp: CombineInput, columns: list[str] | None = None) -> pd.DataFrame:
    """Read an input's whole table.

    Uses :func:`pzcat.tables.read_table` when the core provides it, else pandas/astropy.

    Parameters
    ----------
    inp : CombineInput
    columns : list of str, optional
        Read only these columns.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    PipelineError
        ``input-unreadable`` when the file is missing or cannot be parsed.
    """
    path = Path(inp.path)
    if not path.exists():
        raise PipelineError(
            "input-unreadable", f"input {inp.internal_name}: file {path} does not exist",
            input=inp.internal_name,
        )
    fmt = inp.format.lower()
    try:
        if fmt == "hats":
            return _read_hats(path, columns)
        try:
            from pzcat.tables import read_table
        except ImportError:
            read_table = None
        if read_table is not None:
            frame = read_table(path, fmt)
            frame = frame if isinstance(frame, pd.DataFrame) else frame.to_pandas()
        elif fmt == "parquet":
            frame = pd.read_parquet(path, columns=columns)
        elif fmt == "csv":
            frame = pd.read_csv(path, usecols=columns)
        elif fmt == "fits":
            frame = _read_fits(path)
        elif fmt == "hdf5":
            frame = pd.read_hdf(path)
        else:
            raise PipelineError(
                "input-format", f"input {inp.internal_name}: unknown format {inp.format!r}; "
                f"use one of {', '.join(FORMATS)}", input=inp.internal_name,
            )
    except (OSError, ValueError, KeyError) as exc:
        raise PipelineError(
            "input-unreadable", f"input {inp.internal_name}: cannot read {path} as {fmt}: {exc}",
            input=inp.internal_name,
        ) from exc
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    return frame


def input_columns(inp: CombineInput) -> list[str]:
    """Return the column names of an input without reading its rows (when possible)."""
    path = Path(inp.path)
    fmt = inp.format.lower()
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return [n for n in pq.read_schema(path).names if n != "__index_level_0__"]
        if fmt == "csv":
            return list(pd.read_csv(path, nrows=0).columns)
        if fmt == "hats":
            import hats

            schema = hats.read_hats(path).schema
            return [n for n in schema.names if n != "_healpix_29"]
        if fmt == "fits":
            from astropy.io import fits

            with fits.open(path) as hdul:
                return list(hdul[1].columns.names)
    except (OSError, ValueError) as exc:
        raise PipelineError(
            "input-unreadable", f"input {inp.internal_name}: cannot read {path} as {fmt}: {exc}",
            input=inp.internal_name,
        ) from exc
    return list(load_input(inp).columns)
