"""A downloaded main file read as a table: pzcat's readers (any pandas), HATS through lsdb, and the
200 MB guard of ``get_product``."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import pandas as pd

#: What ``get_product`` loads without ``get_big_products=True`` (as the original client).
MAX_IN_MEMORY_PRODUCT_SIZE_BYTES = 200 * 1024**2
#: The main file's suffix -> pzcat's table format.
FORMATS = {
    ".csv": "csv",
    ".fits": "fits",
    ".fit": "fits",
    ".hdf5": "hdf5",
    ".h5": "hdf5",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def check_size(meta: dict, get_big_products: bool) -> None:
    """Refuse a main file over 200 MB unless ``get_big_products``.

    Raises
    ------
    ValueError
        As the original client.
    """
    size = (meta.get("main_file") or {}).get("size")
    if size and float(size) > MAX_IN_MEMORY_PRODUCT_SIZE_BYTES and not get_big_products:
        raise ValueError(
            f"Product '{meta.get('internal_name')}' is larger than 200 MB and cannot "
            "be loaded into memory by default: download_product() it and read it "
            "with pandas, Dask or LSDB, or pass get_big_products=True."
        )


def read_main_file(path: Path, main: dict):
    """The downloaded main file ``path`` as an :class:`astropy.table.Table`.

    A HATS collection comes as a ZIP of its folder and is read with lsdb.
    """
    from astropy.table import Table

    if main.get("is_directory") or path.suffix.lower() == ".zip":
        return read_hats(path, main.get("name"))
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: not a table pzcat can read")
    from pzcat.tables import read_table

    return Table.from_pandas(read_table(path, fmt))


def read_hats(archive: Path, name: str | None):
    """Extract a HATS ZIP (refusing paths outside the folder) and read it with lsdb."""
    import lsdb
    from astropy.table import Table

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                if not (root / member.filename).resolve().is_relative_to(root):
                    raise ValueError(f"Unsafe path in product archive: {member.filename}")
            zf.extractall(root)
        candidates = (
            ([root / name] if name else []) + [p.parent for p in root.rglob("*properties")] + [root]
        )
        for candidate in candidates:
            if candidate.is_dir():
                try:
                    data = lsdb.open_catalog(str(candidate)).compute()
                except (OSError, ValueError, FileNotFoundError):
                    continue
                return Table.from_pandas(pd.DataFrame(data).reset_index(drop=True))
    raise ValueError(f"{archive.name}: no HATS catalog lsdb can open")
