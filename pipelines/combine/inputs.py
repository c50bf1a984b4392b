"""The inputs of a run and how their tables are read.

A :class:`CombineInput` is what the pipeline knows of one redshift catalog: its name, version,
files, format and column association. Integration code converts manifests into it.
:func:`iter_input` is the one place that reads an input's table (through :mod:`pzcat.tables`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.combine.errors import PipelineError
from pzcat import vocab
from pzcat.errors import PzcatError

#: Roles of the column association, in output order (from the one vocabulary, pzcat.vocab).
ROLES = vocab.PIPELINE_ROLES
REQUIRED_ROLES = vocab.PIPELINE_REQUIRED_ROLES
FORMATS = vocab.TABLE_FORMATS
#: Bookkeeping columns of the files themselves, never data.
HIDDEN = ("__index_level_0__", "_healpix_29", "Norder", "Dir", "Npix")


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


def _wrap(inp: CombineInput, exc: PzcatError) -> PipelineError:
    return PipelineError(
        "input-unreadable",
        f"input {inp.internal_name}: cannot read {inp.path} as {inp.format}: [{exc.code}] {exc.message}",
        input=inp.internal_name,
    )


def iter_input(
    inp: CombineInput, batch_rows: int, columns: list[str] | None = None
) -> Iterator[pd.DataFrame]:
    """Yield an input's rows in batches of at most ``batch_rows``, in file order.

    Reading goes through :func:`pzcat.tables.iter_batches` (HATS: leaves in pixel order).

    Raises
    ------
    PipelineError
        ``input-unreadable`` naming the input.
    """
    from pzcat.tables import iter_batches

    try:
        for batch in iter_batches(Path(inp.path), inp.format.lower(), columns=columns,
                                  batch_rows=batch_rows):
            yield batch.drop(columns=[c for c in HIDDEN if c in batch.columns])
    except PzcatError as exc:
        raise _wrap(inp, exc) from exc


def load_input(inp: CombineInput, columns: list[str] | None = None) -> pd.DataFrame:
    """Read an input's whole table (small inputs, tests)."""
    parts = list(iter_input(inp, 1_000_000, columns))
    if not parts:
        return pd.DataFrame(columns=columns or [])
    return pd.concat(parts, ignore_index=True)


def input_columns(inp: CombineInput) -> list[str]:
    """Column names of an input, without reading its rows."""
    from pzcat.tables import open_table

    if inp.format.lower() not in FORMATS:
        raise PipelineError(
            "input-format", f"input {inp.internal_name}: unknown format {inp.format!r}; use one "
            f"of {', '.join(FORMATS)}", input=inp.internal_name,
        )
    try:
        names = open_table(Path(inp.path), inp.format.lower()).column_names()
    except PzcatError as exc:
        raise _wrap(inp, exc) from exc
    return [n for n in names if n not in HIDDEN]
