"""Hostile tables: wide CSVs, decompression bombs, HDF5 declaring 10**11 rows, sparse files over
the limit, HATS links to outside rows. Each is refused with its code, within a time and a memory
limit (the real ``pzcat validate`` under ``RLIMIT_AS``), and the builders never publish outside rows.
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_bad_inputs import materialize

from pzcat.catalog import Catalog
from pzcat.errors import TableError
from pzcat.readers.base import MAX_COLUMNS, check_column_names
from pzcat.tables import open_table
from pzcat.validate import validate_catalog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from limits import run_limited

PZCAT = str(Path(sys.executable).with_name("pzcat"))
BASE = "1_base_sample"


def _validate_limited(root: Path, timeout: float = 60) -> tuple[str, float, float]:
    run = run_limited(
        [PZCAT, "validate", "--root", str(root)], cwd=root, mem_mb=2048, timeout=timeout
    )
    assert not run.timed_out, f"validate ran over {timeout} s"
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode == 1, (run.stdout[-2000:], run.stderr[-2000:])
    return run.stdout, run.seconds, run.peak_mb


def test_column_names_check_is_linear() -> None:
    names = [f"c{i}" for i in range(MAX_COLUMNS)]
    start = time.process_time()
    check_column_names(names, Path("t.csv"))  # at the limit: fine
    for _ in range(50):  # 100,000 name checks
        check_column_names(names, Path("t.csv"))
    assert time.process_time() - start < 5  # the quadratic check took ~66 s for 10,000
    with pytest.raises(TableError) as info:
        check_column_names([*names, "one more"], Path("t.csv"))
    assert info.value.code == "too-many-columns"
    with pytest.raises(TableError) as info:
        check_column_names(["a", "b", "a"], Path("t.csv"))
    assert info.value.code == "unreadable-table"
    for bad in ("nul\x00", "new\nline", "x" * 1001):
        with pytest.raises(TableError) as info:
            check_column_names([bad], Path("t.csv"))
        assert info.value.code == "bad-column-name"


@pytest.mark.parametrize("n_columns", [10_000, 100_000])
def test_very_wide_csv_is_refused_fast(tmp_path: Path, n_columns: int) -> None:
    root, _ = materialize("csv_too_many_columns", tmp_path)
    path = root / "products" / BASE / "sample.csv"
    header = ",".join(["id", "ra", "dec", "z"] + [f"c{i}" for i in range(n_columns)])
    row = ",".join(["1", "10.0", "-30.0", "0.5"] + ["0"] * n_columns)
    path.write_text(header + "\n" + (row + "\n") * 3)
    out, seconds, peak = _validate_limited(root)
    assert "error[too-many-columns]" in out
    print(f"{n_columns:,} columns: {seconds:.2f} s, peak {peak:.0f} MB")


def _fits_gz_bomb(path: Path, table_bytes: int = 1_000_000_000) -> None:
    """A gzip FITS file whose one binary table (a float64 column of zeros) is ``table_bytes``."""
    from astropy.io import fits

    rows = table_bytes // 8
    hdr = fits.BinTableHDU.from_columns([fits.Column(name="ra", format="D")], nrows=1).header
    hdr["NAXIS2"] = rows
    primary = fits.PrimaryHDU().header.tostring().encode()
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    with open(path, "wb") as fh:
        fh.write(comp.compress(primary + hdr.tostring().encode()))
        left = rows * 8 + (-rows * 8) % 2880
        while left:
            fh.write(comp.compress(zeros[: min(left, len(zeros))]))
            left -= min(left, len(zeros))
        fh.write(comp.flush())


def test_fits_gz_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    root, _ = materialize("corrupt_fits", tmp_path)
    folder = root / "products" / BASE
    for f in folder.iterdir():
        f.unlink()
    bomb = folder / "sample.fits"
    _fits_gz_bomb(bomb)
    stored = bomb.stat().st_size
    assert stored < 2_000_000
    out, seconds, peak = _validate_limited(root)
    assert "error[decompression-bomb]" in out
    assert peak < 600, peak
    print(f".fits.gz bomb {stored:,} B -> 1 GB: {seconds:.2f} s, peak {peak:.0f} MB")
    with pytest.raises(TableError) as info:  # in-process too, and no temporary copy left behind
        list(open_table(bomb, "fits").batches())
    assert info.value.code == "decompression-bomb"


def test_gzip_fits_within_the_ratio_reads(tmp_path: Path) -> None:
    from astropy.table import Table

    plain = tmp_path / "t.fits"
    Table({"ra": np.arange(1000.0), "z": np.linspace(0, 1, 1000)}).write(plain)
    packed = tmp_path / "t.fits.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    df = pd.concat(open_table(packed, "fits").batches())
    assert list(df["ra"]) == list(np.arange(1000.0))


def test_hdf5_declaring_huge_datasets_is_refused_fast(tmp_path: Path) -> None:
    root, _ = materialize("hdf5_declared_huge", tmp_path)
    out, seconds, peak = _validate_limited(root)
    assert "error[decompression-bomb]" in out
    print(f"HDF5 declaring 3 x 10**11 rows: {seconds:.2f} s, peak {peak:.0f} MB")


def test_sparse_csv_over_the_limit_is_not_read(tmp_path: Path) -> None:
    root, _ = materialize("csv_nul_in_header", tmp_path)
    path = root / "products" / BASE / "sample.csv"
    path.write_text("id,ra,dec,z\n1,10.0,-30.0,0.5\n")
    with open(path, "r+b") as fh:
        fh.truncate(1 << 30)  # 1 GB apparent, a few KB on disk
    start = time.monotonic()
    report = validate_catalog(Catalog.open(root))
    seconds = time.monotonic() - start
    assert "file-too-large" in report.codes()
    assert seconds < 10, seconds  # sha256 of 1 GB alone takes longer than the whole check
    print(f"sparse 1 GB CSV: {seconds:.3f} s")


def test_hats_link_outside_is_refused_and_never_published(tmp_path: Path) -> None:
    root, _ = materialize("hats_symlink_outside", tmp_path)
    secret = pd.DataFrame(
        {
            "id": [99],
            "ra": [123.456],
            "dec": [-7.89],
            "z": [0.777],
            "z_err": [0.1],
            "z_flag": [4],
            "survey": ["SECRET"],
        }
    )
    secret.to_parquet(root / "outside" / "secret.parquet", index=False)
    report = validate_catalog(Catalog.open(root))
    assert "symlink-escape" in report.codes()
    with pytest.raises(TableError) as info:
        list(open_table(root / "products" / BASE / "cat", "hats").batches())
    assert info.value.code == "symlink-escape"

    from pzcat_datasette.previews import build_previews

    db = root / "build" / "previews.db"
    build_previews(Catalog.open(root), db)
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            cols = [r[1] for r in conn.execute(f'pragma table_info("{table}")')]
            if "survey" in cols:
                assert not conn.execute(
                    f'select 1 from "{table}" where survey = ?', ["SECRET"]
                ).fetchall()

    from site_builder.build import build_site

    build_site(Catalog.open(root), root / "build" / "site")
    api = root / "build" / "site" / "api"
    for f in api.rglob("*.json"):
        assert "SECRET" not in f.read_text() and "123.456" not in f.read_text(), f
    shutil.rmtree(root / "build")
