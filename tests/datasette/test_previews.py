"""build/previews.db: tables, types, indexes, HEALPix, statistics, cap, incremental and atomic builds."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from ds_catalog import add_product, make_catalog, redshift_frame

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat_datasette.previews import HEALPIX_COLUMN, build_previews, default_db_path

SPEC = "1_spec_z_sample"
TRAIN = "2_training_set_a"


def q(catalog, sql, *args):
    conn = sqlite3.connect(default_db_path(catalog))
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_tables_and_products(built):
    tables = {r[0] for r in q(built, "select name from sqlite_master where type='table'")}
    assert {"products", "columns", "products_fts", "_pzcat_state", SPEC, TRAIN} <= tables
    assert "3_trained_model" not in tables  # not tabular
    rows = q(
        built,
        "select internal_name, product_type, release, official, preview_table, n_rows, "
        "ra_column, z_err_column, site_page, download from products order by id",
    )
    assert rows[0][:8] == (SPEC, "redshift_catalog", None, 1, SPEC, 500, "ra", "z_err")
    assert rows[0][8] == f"/site/product/{SPEC}/"
    assert rows[0][9].endswith(f"/-/download/{SPEC}.zip")
    assert rows[2][4] is None
    # "training sets with a z_err column"
    assert q(
        built,
        "select internal_name from products where product_type='training_set' "
        "and z_err_column is not null",
    ) == [(TRAIN,)]


def test_full_text_search(built):
    hits = q(
        built,
        "select p.internal_name from products_fts f join products p on p.id = f.rowid "
        "where products_fts match 'training'",
    )
    assert hits == [(TRAIN,)]


def test_typed_columns_and_indexes(built):
    types = {r[1]: r[2] for r in q(built, f'pragma table_info("{SPEC}")')}
    assert types == {
        "id": "INTEGER",
        "ra": "REAL",
        "dec": "REAL",
        "z": "REAL",
        "z_err": "REAL",
        "z_flag": "INTEGER",
        "survey": "TEXT",
        HEALPIX_COLUMN: "INTEGER",
    }
    csv_types = {r[1]: r[2] for r in q(built, f'pragma table_info("{TRAIN}")')}
    assert csv_types["id"] == "INTEGER" and csv_types["mag_i"] == "REAL"
    indexed = {
        r[0]
        for r in q(
            built,
            "select sql from sqlite_master where type='index' and tbl_name=? and sql is not null",
            SPEC,
        )
    }
    joined = " ".join(indexed)
    for col in ('"ra"', '"dec"', '"z"', f'"{HEALPIX_COLUMN}"'):
        assert col in joined
    plan = " ".join(
        str(r)
        for r in q(
            built, f'explain query plan select * from "{SPEC}" where dec between -35 and -34'
        )
    )
    assert "idx_" in plan


def test_healpix_matches_healpy(built):
    import healpy

    rows = q(built, f'select ra, dec, "{HEALPIX_COLUMN}" from "{SPEC}"')
    ra, dec, pix = (np.array(c) for c in zip(*rows, strict=True))
    assert (healpy.ang2pix(1024, ra, dec, nest=True, lonlat=True) == pix).all()


def test_column_statistics(built):
    df = pd.read_parquet(built.root / "products" / SPEC / "specz.parquet")
    rows = {
        r[0]: r[1:]
        for r in q(
            built,
            'select "column", "min", "max", mean, nulls, ucd, role, unit '
            "from columns where product=?",
            SPEC,
        )
    }
    mn, mx, mean, nulls, ucd, role, unit = rows["z"]
    assert mn == pytest.approx(df.z.min()) and mx == pytest.approx(df.z.max())
    assert mean == pytest.approx(df.z.mean()) and nulls == 0
    assert (ucd, role) == ("src.redshift", "z")
    assert rows["ra"][4:] == ("pos.eq.ra;meta.main", "ra", "deg")
    assert rows["survey"][3] == 0 and rows["survey"][0] is None


def test_nulls_and_nan(tmp_path):
    root = tmp_path / "repo"
    make_catalog(root, n_rows=10)
    df = pd.DataFrame(
        {
            "ra": [1.0, np.nan, 3.0],
            "dec": [0.0, 1.0, np.nan],
            "z": [0.1, 0.2, np.nan],
            "n": pd.array([1, None, 3], dtype="Int64"),
            "s": ["a", None, "c"],
            "flag": [True, False, True],
        }
    )
    add_product(
        root,
        4,
        "Holes",
        "redshift_catalog",
        [("h.parquet", "main", df)],
        columns={"ra": "ra", "dec": "dec", "z": "z"},
    )
    cat = Catalog.open(root)
    build_previews(cat)
    rows = q(
        cat, f'select ra, dec, z, n, s, flag, "{HEALPIX_COLUMN}" from "4_holes" order by rowid'
    )
    assert rows[1][:6] == (None, 1.0, 0.2, None, None, 0)
    assert rows[1][6] is None and rows[2][6] is None and rows[0][6] is not None
    stats = dict(q(cat, "select \"column\", nulls from columns where product='4_holes'"))
    assert stats == {"ra": 1, "dec": 1, "z": 1, "n": 1, "s": 1, "flag": 0}


def test_row_cap(tmp_path):
    cat = make_catalog(tmp_path / "repo", n_rows=500, cap=120)
    stats = build_previews(cat)
    spec = next(p for p in stats.products if p.internal_name == SPEC)
    assert (spec.rows, spec.truncated, spec.total_rows) == (120, True, 500)
    assert q(cat, f'select count(*), min(id), max(id) from "{SPEC}"') == [(120, 0, 119)]
    assert q(
        cat, "select preview_rows, preview_truncated from products where internal_name=?", SPEC
    ) == [(120, 1)]
    train = next(p for p in stats.products if p.internal_name == TRAIN)
    assert (train.rows, train.truncated) == (120, True)


def test_cap_exactly_reached_is_not_truncated(tmp_path):
    cat = make_catalog(tmp_path / "repo", n_rows=200, cap=200)
    spec = next(p for p in build_previews(cat).products if p.internal_name == SPEC)
    assert (spec.rows, spec.truncated) == (200, False)


def test_incremental_rebuild_only_changed_product(catalog):
    first = build_previews(catalog)
    assert first.full_rebuild and set(first.imported) == {SPEC, TRAIN}
    second = build_previews(Catalog.open(catalog.root))
    assert second.imported == [] and set(second.reused) == {SPEC, TRAIN} and not second.full_rebuild
    # change the training set: new file, new sha256, bumped version
    df = redshift_frame(50, seed=9)[["id", "z", "z_err"]].assign(mag_i=21.0)
    add_product(
        catalog.root,
        2,
        "Training Set A",
        "training_set",
        [("train.csv", "main", df)],
        columns={"id": "id", "z": "z", "z_err": "z_err"},
        release="dp1",
        version=2,
    )
    third = build_previews(Catalog.open(catalog.root))
    assert third.imported == [TRAIN] and third.reused == [SPEC]
    assert q(catalog, f'select count(*) from "{TRAIN}"') == [(50,)]
    assert q(catalog, f'select count(*) from "{SPEC}"') == [(500,)]
    # a removed product loses its table
    (catalog.manifest_path(TRAIN)).unlink()
    fourth = build_previews(Catalog.open(catalog.root))
    names = {r[0] for r in q(catalog, "select name from sqlite_master where type='table'")}
    assert TRAIN not in names and fourth.reused == [SPEC]
    assert q(catalog, "select count(*) from products") == [(2,)]
    assert build_previews(Catalog.open(catalog.root), force=True).imported == [SPEC]


def test_build_is_atomic(built, monkeypatch):
    import pzcat_datasette.previews as previews

    db = default_db_path(built)
    before = db.read_bytes()

    def boom(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(previews, "_write_catalog_tables", boom)
    with pytest.raises(PzcatError) as exc:
        build_previews(built, force=True)
    assert exc.value.code == "previews-build"
    assert db.read_bytes() == before
    assert [p.name for p in db.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_unreadable_or_escaping_main_file_is_skipped(catalog, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("z\n1\n")
    main = catalog.root / "products" / TRAIN / "train.csv"
    main.unlink()
    main.symlink_to(outside)
    stats = build_previews(catalog)
    skipped = {p.internal_name: p.message for p in stats.skipped}
    assert "preview-skipped" in skipped[TRAIN]
    assert SPEC in stats.imported
    names = {r[0] for r in q(catalog, "select name from sqlite_master where type='table'")}
    assert TRAIN not in names


def test_corrupt_table_is_skipped(catalog):
    (catalog.root / "products" / SPEC / "specz.parquet").write_bytes(b"PAR1 not really")
    stats = build_previews(catalog)
    assert [p.internal_name for p in stats.skipped] == [SPEC]
    assert "truncated-parquet" in stats.skipped[0].message
