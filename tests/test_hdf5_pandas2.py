"""The demo's HDF5 training set opens in the community's readers: pandas < 3 (what the pzserver
client and tables_io run), astropy and h5py; and `pzcat validate` warns about files only
pandas 3 can read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from pzcat.readers.hdf5 import groups_needing_pandas3, make_pandas2_readable

REPO = Path(__file__).resolve().parents[1]
TRAINING = REPO / "products" / "6_dp1_ecdfs_training_set" / "dp1_ecdfs_training_set.hdf5"

READ = """
import sys, pandas
assert pandas.__version__.split(".")[0] == "2", pandas.__version__
df = pandas.read_hdf(sys.argv[1])
print(pandas.__version__, len(df), ",".join(df.columns))
"""


def test_demo_training_set_opens_in_pandas2(tmp_path: Path) -> None:
    """pandas 2 installed (no dependencies: numpy and PyTables are the project's) next to ours."""
    target = tmp_path / "pandas2"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            "pandas<3",
            "pytz",
        ],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [sys.executable, "-c", READ, str(TRAINING)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    version, rows, columns = out.stdout.split()
    assert version.startswith("2.") and int(rows) == 5000
    assert {"object_id", "ra", "dec", "z", "z_err", "mag_r"} <= set(columns.split(","))


def test_demo_training_set_opens_in_astropy_and_h5py() -> None:
    import h5py
    from astropy.table import Table

    table = Table.read(TRAINING, path="training_set/table")
    assert len(table) == 5000
    with h5py.File(TRAINING) as fh:
        assert fh["training_set"].attrs["pandas_version"]
    assert groups_needing_pandas3(TRAINING) == []


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
