"""The demo's HDF5 training set opens in the community's readers: tables_io (what the pzserver
client reads it with) under pandas 2 and pandas 3, h5py and pzcat; and `pzcat validate` warns about
HDF5 files tables_io would not open as one table, and about pandas tables only pandas 3 reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from pzcat.files import path_digest
from pzcat.readers.hdf5 import (
    groups_needing_pandas3,
    make_pandas2_readable,
    tables_io_problem,
    write_columns,
)
from pzcat.tables import read_table

REPO = Path(__file__).resolve().parents[1]
TRAINING = REPO / "products" / "6_dp1_ecdfs_training_set" / "dp1_ecdfs_training_set.hdf5"
TABLES_IO = "tables-io==1.1.3"

#: What the pzserver client does with a downloaded non-CSV main file (pzserver 0.3.7, core.py).
READ = """
import sys, pandas, tables_io
table = tables_io.read(sys.argv[1], tables_io.types.AP_TABLE)
assert type(table).__name__ == "Table", type(table)
# a pandas user's read (tables_io cannot make a DataFrame of a compound dataset: not asked then)
frame = tables_io.read(sys.argv[1], "pandasDataFrame") if sys.argv[2:] != ["table"] else table
print(pandas.__version__, len(table), ",".join(table.colnames), len(frame))
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, Path]:
    """tables_io, and pandas 2 beside it, installed without dependencies next to ours."""
    base = tmp_path_factory.mktemp("readers")
    out = {}
    for name, extra in (("pandas3", []), ("pandas2", ["pandas<3", "pytz"])):
        target = base / name
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
            + [str(target), TABLES_IO, "deprecated", *extra],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        out[name] = target
    return out


def _tables_io(site: Path, path: Path, *only: str) -> tuple[str, int, list[str], int]:
    proc = subprocess.run(
        [sys.executable, "-c", READ, str(path), *only],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    version, rows, columns, frame_rows = proc.stdout.split()
    return version, int(rows), columns.split(","), int(frame_rows)


@pytest.mark.parametrize("pandas_major", ["2", "3"])
def test_demo_training_set_opens_in_tables_io(site, pandas_major) -> None:
    version, rows, columns, frame_rows = _tables_io(site[f"pandas{pandas_major}"], TRAINING)
    assert version.split(".")[0] == pandas_major
    assert rows == frame_rows == 5000
    assert columns[:3] == ["object_id", "ra", "dec"] and {"z", "z_err", "mag_r"} <= set(columns)


def test_demo_training_set_opens_in_h5py_and_pzcat() -> None:
    with h5py.File(TRAINING) as fh:
        frame = pd.DataFrame({name: fh[name][()] for name in fh})
    assert len(frame) == 5000 and list(frame.columns)[:3] == ["object_id", "ra", "dec"]
    assert frame["object_id"].dtype == np.int64
    ours = read_table(TRAINING, "hdf5")
    assert list(ours.columns) == list(frame.columns)
    assert np.array_equal(ours["z"].to_numpy(), frame["z"].to_numpy())
    assert tables_io_problem(TRAINING) is None and groups_needing_pandas3(TRAINING) == []


def test_the_layout_check_follows_tables_io(site, tmp_path: Path) -> None:
    """What tables_io_problem says about a file, tables_io does: one table, or not."""
    frame = pd.DataFrame({"z": [0.1, 0.2], "name": pd.Series(["a", "b"], dtype=object)})
    columns = tmp_path / "columns.hdf5"
    write_columns(columns, frame)
    pandas_hdf5 = tmp_path / "pandas.hdf5"
    frame.to_hdf(pandas_hdf5, key="data", format="table")
    pandas_h5 = tmp_path / "pandas.h5"
    frame.to_hdf(pandas_h5, key="data", format="table")
    other_key = tmp_path / "other_key.h5"
    frame.to_hdf(other_key, key="catalog", format="table")
    compound = tmp_path / "compound.hdf5"
    with h5py.File(compound, "w") as fh:
        fh.create_dataset("data", data=np.array([(1, 0.1), (2, 0.2)], dtype="i8,f8"))
    for path in (pandas_hdf5, pandas_h5, other_key):
        make_pandas2_readable(path)
    for path in (columns, pandas_h5, compound):
        assert tables_io_problem(path) is None, path
        assert _tables_io(site["pandas2"], path, "table")[1] == 2
    for path in (pandas_hdf5, other_key):
        assert tables_io_problem(path), path
        proc = subprocess.run(
            [sys.executable, "-c", READ, str(path), "table"],
            capture_output=True,
            text=True,
            env={"PYTHONPATH": str(site["pandas2"]), "PATH": "/usr/bin:/bin"},
        )
        assert proc.returncode != 0, path
    assert tables_io_problem(tmp_path / "columns.hdf") is not None  # a suffix tables_io lacks


def test_validate_warns_about_files_tables_io_would_not_open(tmp_path: Path) -> None:
    from demo_copy import copy_catalog

    from pzcat.catalog import Catalog
    from pzcat.validate import validate_catalog

    root = copy_catalog(tmp_path / "repo")
    target = root / TRAINING.relative_to(REPO)
    assert "hdf5-not-for-tables-io" not in validate_catalog(Catalog.open(root)).codes()
    frame = read_table(target, "hdf5")
    frame.to_hdf(target, key="training_set", format="table", index=False, mode="w")
    make_pandas2_readable(target)
    catalog = Catalog.open(root)
    m = catalog.get("6_dp1_ecdfs_training_set")
    m.main_file.size, m.main_file.sha256 = path_digest(target)
    catalog.save(m)
    report = validate_catalog(Catalog.open(root), check_tables=True)
    assert report.valid
    issues = [i for i in report.all_issues if i.code == "hdf5-not-for-tables-io"]
    assert [i.severity for i in issues] == ["warning"]
    assert issues[0].file.endswith("dp1_ecdfs_training_set.hdf5")


def test_pandas3_files_are_detected_and_fixed(tmp_path: Path) -> None:
    path = tmp_path / "t.h5"
    pd.DataFrame({"z": [0.1, 0.2], "name": pd.Series(["a", "b"], dtype=object)}).to_hdf(
        path, key="cat", format="table"
    )
    if not pd.__version__.startswith("2."):
        assert groups_needing_pandas3(path) == ["cat"]
    make_pandas2_readable(path)
    assert groups_needing_pandas3(path) == []
    assert pd.read_hdf(path)["z"].tolist() == [0.1, 0.2]
