"""The table readers give back what was written, in pieces, whatever the layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pzcat.errors import PzcatError
from pzcat.tables import CsvReader, FitsReader, Hdf5Reader, open_table, read_table


def frame(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "id": np.arange(n, dtype="int64"),
            "ra": rng.uniform(0, 360, n),
            "dec": rng.uniform(-90, 90, n),
            "z": rng.uniform(0, 3, n).astype("float32"),
            "flag": rng.integers(0, 5, n).astype("int16"),
            "survey": pd.array(rng.choice(["VVDS", "DESI", "2dF"], n), dtype="str"),
        }
    )


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        if a[c].dtype.kind in "fiu":
            np.testing.assert_allclose(a[c].to_numpy(float), b[c].to_numpy(float), rtol=1e-6)
        else:
            assert [str(v) for v in a[c]] == [str(v) for v in b[c]], c


@pytest.mark.parametrize("batch_rows", [1, 77, 1000, 500_000])
def test_fits_plain_path(tmp_path: Path, batch_rows: int, monkeypatch) -> None:
    from astropy.table import Table

    df = frame()
    Table.from_pandas(df.astype({"survey": "U4"})).write(tmp_path / "t.fits")
    monkeypatch.setattr(FitsReader, "CHUNK", 4096)  # many pieces
    reader = open_table(tmp_path / "t.fits", "fits")
    parts = list(reader.batches(batch_rows=batch_rows))
    assert all(len(p) <= batch_rows for p in parts)
    same(pd.concat(parts, ignore_index=True), df)
    some = pd.concat(reader.batches(columns=["z", "ra"], batch_rows=batch_rows), ignore_index=True)
    same(some, df[["z", "ra"]])


def test_fits_scaled_and_vector_columns(tmp_path: Path) -> None:
    """Unsigned (TZERO), logical and vector columns take astropy's path and agree."""
    from astropy.table import Table

    t = Table(
        {
            "u": np.arange(10, dtype="uint16") + 40000,
            "ok": np.arange(10) % 2 == 0,
            "vec": np.ones((10, 3)),
            "ra": np.linspace(0, 9, 10),
        }
    )
    t.write(tmp_path / "t.fits")
    out = read_table(tmp_path / "t.fits", "fits")
    assert list(out.columns) == ["u", "ok", "ra"]
    assert out["u"].tolist() == list(range(40000, 40010))
    assert out["ok"].tolist() == [i % 2 == 0 for i in range(10)]
    assert open_table(tmp_path / "t.fits", "fits").n_rows() == 10


def test_fits_truncated_is_coded(tmp_path: Path) -> None:
    from astropy.table import Table

    Table.from_pandas(frame(5000).drop(columns="survey")).write(tmp_path / "t.fits")
    raw = (tmp_path / "t.fits").read_bytes()
    (tmp_path / "t.fits").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(PzcatError) as err:
        read_table(tmp_path / "t.fits", "fits")
    assert err.value.code == "corrupt-fits"


@pytest.mark.parametrize(
    "layout", ["table", "table-data-columns", "fixed", "fixed-numeric", "compound", "columns"]
)
def test_hdf5_layouts(tmp_path: Path, layout: str) -> None:
    import h5py

    df = frame()
    path = tmp_path / "t.hdf5"
    expected = df
    if layout.startswith("table"):
        data_columns = ["z", "flag"] if layout.endswith("columns") else None
        df.astype({"survey": object}).to_hdf(
            path, key="cat", format="table", data_columns=data_columns
        )
    elif layout == "fixed":
        df.astype({"survey": object}).to_hdf(path, key="cat")
    elif layout == "fixed-numeric":
        expected = df.drop(columns="survey")
        expected.to_hdf(path, key="cat")
    else:
        with h5py.File(path, "w") as fh:
            if layout == "compound":
                arr = np.zeros(
                    len(df),
                    dtype=[(c, "S4" if c == "survey" else df[c].dtype.str) for c in df.columns],
                )
                for c in df.columns:
                    arr[c] = df[c].to_numpy().astype(arr.dtype[c])
                fh.create_dataset("cat", data=arr)
            else:
                g = fh.create_group("cat")
                for c in df.columns:
                    g.create_dataset(
                        c, data=df[c].to_numpy().astype("S4") if c == "survey" else df[c].to_numpy()
                    )
                expected = df[sorted(df.columns)]  # h5py lists a group's members by name
    reader = open_table(path, "hdf5")
    same(pd.concat(reader.batches(batch_rows=333), ignore_index=True), expected)
    assert [c.name for c in reader.schema()] == list(expected.columns)
    some = pd.concat(reader.batches(columns=["dec", "ra"], batch_rows=400), ignore_index=True)
    same(some, expected[["dec", "ra"]])
    assert reader.n_rows() == len(df)


def test_hdf5_block_reads_keep_memory_small(tmp_path: Path, monkeypatch) -> None:
    df = frame(5000)
    df.astype({"survey": object}).to_hdf(tmp_path / "t.hdf5", key="cat", format="table")
    monkeypatch.setattr(Hdf5Reader, "CHUNK", 1024)
    parts = list(open_table(tmp_path / "t.hdf5", "hdf5").batches(columns=["ra", "z"]))
    assert max(len(p) for p in parts) <= 1024 // 8
    same(pd.concat(parts, ignore_index=True), df[["ra", "z"]])


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_pieces(tmp_path: Path, sep: str, monkeypatch) -> None:
    df = frame()
    df.to_csv(tmp_path / "t.csv", sep=sep, index=False)
    monkeypatch.setattr(CsvReader, "CHUNK", 2000)  # many line-aligned pieces
    reader = open_table(tmp_path / "t.csv", "csv")
    assert reader.dialect() == (sep, True)
    same(pd.concat(reader.batches(batch_rows=100), ignore_index=True), df)
    same(
        pd.concat(reader.batches(columns=["survey", "ra"]), ignore_index=True), df[["survey", "ra"]]
    )
    assert reader.n_rows() == len(df)


def test_csv_ragged_row_numbers_across_pieces(tmp_path: Path, monkeypatch) -> None:
    lines = ["a,b,c"] + [f"{i},{i},{i}" for i in range(500)]
    lines[401] = "400,400"
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(CsvReader, "CHUNK", 1000)
    with pytest.raises(PzcatError) as err:
        read_table(tmp_path / "t.csv", "csv")
    assert err.value.code == "ragged-csv"
    assert err.value.context["rows"] == [401]  # rows from 1 (pzcat.vocab.ROW_BASE)


def test_csv_comments_bom_and_utf16(tmp_path: Path) -> None:
    text = "# survey notes\nid,ra,dec,z\n1,10.5,-30.0,0.1\n# in the middle\n2,150.1,2.2,-1\n"
    (tmp_path / "c.csv").write_text(text)
    reader = CsvReader(tmp_path / "c.csv")
    out = pd.concat(list(reader.batches()))
    assert list(out.columns) == ["id", "ra", "dec", "z"] and out["id"].tolist() == [1, 2]
    assert reader.comment_lines == 2
    (tmp_path / "b.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    out = read_table(tmp_path / "b.csv", "csv")
    assert list(out.columns) == ["id", "ra", "dec", "z"] and len(out) == 2
    for enc in ("utf-16", "utf-16-le", "utf-32"):
        (tmp_path / "w.csv").write_bytes(text.encode(enc))
        with pytest.raises(PzcatError) as err:
            read_table(tmp_path / "w.csv", "csv")
        assert err.value.code == "csv-encoding", enc


def test_csv_headerless_and_latin1(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("1,2.5,x\n2,3.5,y\n")
    out = read_table(tmp_path / "h.csv", "csv")
    assert list(out.columns) == ["f0", "f1", "f2"] and len(out) == 2
    (tmp_path / "l.csv").write_bytes("nom,z\nÉtoile,0.1\n".encode("latin-1"))
    out = read_table(tmp_path / "l.csv", "csv")
    assert list(out.columns) == ["nom", "z"] and out["nom"][0] == "Étoile"
    (tmp_path / "c.csv").write_text("# only a comment\n")
    with pytest.raises(PzcatError) as err:
        read_table(tmp_path / "c.csv", "csv")
    assert err.value.code == "empty-table"


class _Touch:
    """Unpickles to a call that creates a file: proof that a pickle ran."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("where", ["attribute", "object-column"])
def test_hdf5_pickles_never_run(tmp_path: Path, where: str) -> None:
    """PyTables unpickles attributes and object columns: a crafted file is refused before that."""
    import pickle

    import h5py

    marker = tmp_path / "pickle-ran"
    path = tmp_path / "evil.hdf5"
    if where == "attribute":
        frame(10).drop(columns="survey").to_hdf(path, key="cat", format="table")
        with h5py.File(path, "a") as fh:
            del fh["cat"].attrs["non_index_axes"]
            fh["cat"].attrs["non_index_axes"] = np.bytes_(pickle.dumps(_Touch(marker), protocol=0))
    else:
        frame(10).astype({"survey": object}).to_hdf(path, key="cat")  # fixed: a pickled block
        with h5py.File(path, "a") as fh:
            name = next(
                k
                for k in fh["cat"]
                if k.endswith("_values") and fh["cat"][k].attrs.get("PSEUDOATOM") is not None
            )
            del fh["cat"][name]
            ds = fh["cat"].create_dataset(name, (1,), dtype=h5py.vlen_dtype(np.uint8))
            ds[0] = np.frombuffer(pickle.dumps(_Touch(marker), protocol=5), dtype=np.uint8)
            ds.attrs["PSEUDOATOM"] = np.bytes_(b"object")
    for call in (lambda r: r.schema(), lambda r: list(r.batches()), lambda r: r.n_rows()):
        with pytest.raises(PzcatError) as err:
            call(open_table(path, "hdf5"))
        assert err.value.code == "unreadable-table"
        assert "pickle" in err.value.message
    assert not marker.exists()


def test_csv_empty_column_in_a_later_piece_keeps_its_type(tmp_path: Path, monkeypatch) -> None:
    rows = [f"{i},{i * 0.5}" for i in range(200)] + [f"{i}," for i in range(200, 400)]
    (tmp_path / "t.csv").write_text("id,z\n" + "\n".join(rows) + "\n")
    monkeypatch.setattr(CsvReader, "CHUNK", 1000)
    parts = list(open_table(tmp_path / "t.csv", "csv").batches())
    assert len(parts) > 2
    assert {str(p["z"].dtype) for p in parts} == {"float64"}
    out = pd.concat(parts, ignore_index=True)
    assert out["z"].isna().sum() == 200 and len(out) == 400
