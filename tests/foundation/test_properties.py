"""Property tests: random bytes and random manifests give coded problems, never another exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pzcat.catalog import Catalog
from pzcat.codes import CODES
from pzcat.errors import PzcatError
from pzcat.manifest import dump_yaml
from pzcat.tables import open_table
from pzcat.validate import validate_catalog, validate_manifest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "bad_inputs"
SETTINGS = settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
FORMATS = {"parquet": ".parquet", "fits": ".fits", "hdf5": ".hdf5", "csv": ".csv"}


def _valid_bytes() -> dict[str, bytes]:
    """A small valid table in every format, to mutate."""
    df = pd.DataFrame(
        {
            "id": np.arange(20, dtype="int64"),
            "ra": np.linspace(0, 359, 20),
            "dec": np.linspace(-89, 89, 20),
            "z": np.linspace(0, 3, 20),
            "name": [f"obj{i}" for i in range(20)],
        }
    )
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        df.to_parquet(base / "t.parquet", index=False)
        from astropy.table import Table

        Table.from_pandas(df.astype({"name": "U8"})).write(base / "t.fits")
        df.astype({"name": object}).to_hdf(base / "t.hdf5", key="data", format="table")
        df.to_csv(base / "t.csv", index=False)
        for fmt, suffix in FORMATS.items():
            out[fmt] = (base / f"t{suffix}").read_bytes()
    return out


VALID = _valid_bytes()


def _exercise(path: Path, fmt: str) -> None:
    """Every reader entry point; only coded errors may come out."""
    try:
        reader = open_table(path, fmt)
        schema = reader.schema()
        names = [c.name for c in schema]
        rows = sum(len(b) for b in reader.batches(batch_rows=7))
        assert rows >= 0
        reader.units()
        for b in reader.batches(columns=names[:2], batch_rows=1000):
            assert list(b.columns) == [c for c in names[:2] if c in b.columns]
        reader.n_rows()
    except PzcatError as exc:
        assert exc.code in CODES, exc.code


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("random_files")


@SETTINGS
@given(fmt=st.sampled_from(sorted(FORMATS)), data=st.binary(max_size=4096))
def test_random_bytes_to_readers(scratch: Path, fmt: str, data: bytes) -> None:
    path = scratch / f"random{FORMATS[fmt]}"
    path.write_bytes(data)
    _exercise(path, fmt)


@SETTINGS
@given(
    fmt=st.sampled_from(sorted(FORMATS)),
    cut=st.floats(0, 1),
    at=st.floats(0, 1),
    patch=st.binary(min_size=1, max_size=64),
    truncate=st.booleans(),
)
def test_damaged_files_to_readers(
    scratch: Path, fmt: str, cut: float, at: float, patch: bytes, truncate: bool
) -> None:
    """A valid file, truncated or with a few bytes overwritten: deeper than random bytes get."""
    raw = bytearray(VALID[fmt])
    if truncate:
        raw = raw[: int(len(raw) * cut)]
    else:
        pos = int(len(raw) * at)
        raw[pos : pos + len(patch)] = patch
    path = scratch / f"damaged{FORMATS[fmt]}"
    path.write_bytes(bytes(raw))
    _exercise(path, fmt)


CSV_ALPHABET = st.sampled_from(
    list("0123456789.,;\t| -+eEnaNinf\"'#\n\r") + ["ra", "dec", "z", "é"]
)


@SETTINGS
@given(text=st.lists(CSV_ALPHABET, max_size=300).map("".join))
def test_random_csv_text(scratch: Path, text: str) -> None:
    path = scratch / "random_text.csv"
    path.write_text(text, encoding="utf-8")
    _exercise(path, "csv")


# -- manifests -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Catalog:
    """A one-product catalog (a corpus case) whose manifest the tests overwrite."""
    import shutil

    root = tmp_path_factory.mktemp("random_manifests") / "repo"
    shutil.copytree(
        CORPUS / "ra_out_of_range", root, ignore=shutil.ignore_patterns("expected.yaml")
    )
    shutil.copy2(CORPUS / "_base" / "catalog.yaml", root / "catalog.yaml")
    return Catalog.open(root)


BASE_MANIFEST = yaml.safe_load(
    (CORPUS / "ra_out_of_range" / "manifests" / "1_base_sample.yaml").read_text()
)
KEYS = sorted(BASE_MANIFEST) + [
    "path",
    "url",
    "role",
    "format",
    "column",
    "ucd",
    "n_rows",
    "columns",
    "bogus",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "main",
            "csv",
            "hats",
            "products/1_base_sample/sample.csv",
            "../x",
            "/etc/passwd",
            "https://h/x.csv",
            "2026-01-01T00:00:00Z",
            "published",
            "pending",
            "deprecated",
            "redshift_catalog",
            "dp1",
        ]
    )
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, (*prefix, i))


def _check_manifest(catalog: Catalog, text: str | bytes, whole: bool = False) -> None:
    path = catalog.manifest_path("1_base_sample")
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    report = validate_manifest(catalog, path)
    for issue in report.issues:
        assert issue.code in CODES, issue.code
        assert issue.message
    if whole:
        catalog.refresh()
        full = validate_catalog(catalog, check_tables=False)
        assert all(i.code in CODES for i in full.all_issues)


@settings(SETTINGS, max_examples=50)
@given(fmt=st.sampled_from(sorted(FORMATS)), data=st.binary(max_size=2048), damaged=st.booleans())
def test_random_files_in_a_catalog(catalog: Catalog, fmt: str, data: bytes, damaged: bool) -> None:
    """validate_manifest on a product whose main file is random or damaged bytes."""
    import copy

    manifest = copy.deepcopy(BASE_MANIFEST)
    name = f"random{FORMATS[fmt]}"  # not the real sample.csv, which other tests read
    raw = VALID[fmt][: len(VALID[fmt]) // 2] + data if damaged else data
    (catalog.product_dir("1_base_sample") / name).write_bytes(raw)
    manifest["files"][0].update(path=f"products/1_base_sample/{name}", format=fmt)
    try:
        _check_manifest(catalog, dump_yaml(manifest))
    finally:
        (catalog.product_dir("1_base_sample") / name).unlink()


@SETTINGS
@given(data=st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), values, max_size=12))
def test_random_manifest_dicts(catalog: Catalog, data: dict) -> None:
    _check_manifest(catalog, dump_yaml(data))


@SETTINGS
@given(choice=st.integers(0, 10_000), value=values, delete=st.booleans())
def test_mutated_manifests(catalog: Catalog, choice: int, value, delete: bool) -> None:
    """A valid manifest with one key replaced by a random value, or deleted."""
    import copy

    data = copy.deepcopy(BASE_MANIFEST)
    paths = [p for p in _paths(data) if p]
    where = paths[choice % len(paths)]
    parent = data
    for step in where[:-1]:
        parent = parent[step]
    if delete:
        del parent[where[-1]]
    else:
        parent[where[-1]] = value
    _check_manifest(catalog, dump_yaml(data), whole=True)


@SETTINGS
@given(text=st.text(max_size=400) | st.binary(max_size=400))
def test_random_manifest_text(catalog: Catalog, text) -> None:
    _check_manifest(catalog, text)


@SETTINGS
@given(
    lines=st.lists(
        st.sampled_from(
            [
                "id: 1",
                "name: x",
                "files:",
                "- role: main",
                "  path: a",
                "  - x",
                ": :",
                "[",
                "]",
                "{a: 1}",
                "? x",
                "&a x",
                "*a",
                "!!python/object:os.system x",
                "columns: {z: z}",
                "\t- tab",
                "---",
                "...",
                "%YAML 1.2",
                "'",
                '"',
            ]
        ),
        max_size=12,
    )
)
def test_yamlish_manifest_text(catalog: Catalog, lines: list[str]) -> None:
    _check_manifest(catalog, "\n".join(lines) + "\n")


def test_valid_bytes_read_back() -> None:
    """The mutated files above start from readable ones (the property tests mean something)."""
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, raw in VALID.items():
            path = Path(tmp) / f"t{FORMATS[fmt]}"
            path.write_bytes(raw)
            reader = open_table(path, fmt)
            assert reader.n_rows() == 20
            assert [c.name for c in reader.schema()] == ["id", "ra", "dec", "z", "name"]
