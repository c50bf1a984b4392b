"""A small test catalog (tabular and non-tabular products) written into a temporary folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from pzcat.catalog import Catalog
from pzcat.files import path_digest
from pzcat.manifest import ColumnInfo, FileEntry, Manifest, make_internal_name

REPO = Path(__file__).resolve().parents[2]
SECRET = "test-secret-0123456789abcdef"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _entry(
    root: Path, path: Path, role: str, fmt: str, df: pd.DataFrame | None = None
) -> FileEntry:
    size, sha = path_digest(path)
    cols = None
    if df is not None:
        cols = [
            ColumnInfo(
                name=c,
                dtype=str(df[c].dtype).replace("str", "string"),
                unit="deg" if c.lower() in ("ra", "dec") else None,
            )
            for c in df.columns
        ]
    return FileEntry(
        role=role,
        path=path.relative_to(root).as_posix(),
        format=fmt,
        size=size,
        sha256=sha,
        n_rows=len(df) if df is not None else None,
        columns=cols,
    )


def add_product(
    root: Path,
    pid: int,
    name: str,
    ptype: str,
    files: list[tuple[str, str, object]],
    columns: dict | None = None,
    **extra,
) -> Manifest:
    """Write the files (name, role, DataFrame|bytes) of a product and its manifest."""
    internal = make_internal_name(pid, name)
    pdir = root / "products" / internal
    pdir.mkdir(parents=True, exist_ok=True)
    entries = []
    for fname, role, content in files:
        path = pdir / fname
        if isinstance(content, pd.DataFrame):
            fmt = "parquet" if fname.endswith(".parquet") else "csv"
            if fmt == "parquet":
                content.to_parquet(path, index=False)
            else:
                content.to_csv(path, index=False)
            entries.append(_entry(root, path, role, fmt, content))
        else:
            path.write_bytes(content)
            entries.append(_entry(root, path, role, "other"))
    m = Manifest(
        id=pid,
        internal_name=internal,
        name=name,
        product_type=ptype,
        uploaded_by="alice",
        created=WHEN,
        updated=WHEN,
        files=entries,
        columns=columns or {},
        description=f"The {name} product, for tests.",
        **extra,
    )
    Catalog.open(root).save(m)
    return m


def redshift_frame(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype=np.int64),
            "ra": rng.uniform(50, 60, n),
            "dec": rng.uniform(-40, -30, n),
            "z": rng.uniform(0, 3, n),
            "z_err": rng.uniform(0, 0.1, n),
            "z_flag": rng.integers(0, 5, n),
            "survey": rng.choice(["DESI", "2dF", "VVDS"], n),
        }
    )


def make_catalog(root: Path, n_rows: int = 500, cap: int | None = None) -> Catalog:
    root.mkdir(parents=True, exist_ok=True)
    text = (REPO / "catalog.yaml").read_text()
    if cap is not None:
        text = text.replace("preview_row_cap: 1000000", f"preview_row_cap: {cap}")
    (root / "catalog.yaml").write_text(text)
    (root / "manifests").mkdir(exist_ok=True)
    add_product(
        root,
        1,
        "Spec Z Sample",
        "redshift_catalog",
        [
            ("specz.parquet", "main", redshift_frame(n_rows)),
            ("readme.html", "description", b"<h1>Spec Z</h1>"),
        ],
        columns={
            "id": "id",
            "ra": "ra",
            "dec": "dec",
            "z": "z",
            "z_err": "z_err",
            "z_flag": "z_flag",
            "survey": "survey",
        },
        official=True,
    )
    train = redshift_frame(200, seed=2)[["id", "z", "z_err"]].assign(mag_i=20.0)
    add_product(
        root,
        2,
        "Training Set A",
        "training_set",
        [("train.csv", "main", train)],
        columns={"id": "id", "z": "z", "z_err": "z_err"},
        release="dp1",
    )
    add_product(
        root,
        3,
        "Trained Model",
        "training_results",
        [
            ("model.pkl", "main", b"\x80\x04pickle" * 1000),
            ("notes.txt", "auxiliary", b"some notes\n"),
        ],
        release="dp1",
    )
    return Catalog.open(root)
