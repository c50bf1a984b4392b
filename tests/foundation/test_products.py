"""`pzcat add`, `edit`, `attach`, `detach`, `deprecate`, `list` and `show` on a copy of the demo catalog."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from pzcat.catalog import Catalog
from pzcat.cli import cli
from pzcat.errors import PzcatError
from pzcat.files import sha256_file
from pzcat.manifest import load_manifest
from pzcat.products import add_product, edit_product
from pzcat.validate import validate_catalog

REPO = Path(__file__).resolve().parents[2]
HATS = REPO / "products" / "5_elais_s1_optical_ids_hats" / "elaiss1_hats"
ENV = {"PZCAT_ROOT": None, "GITHUB_ACTOR": None}


def invoke(root: Path, *args: str):
    """Run a pzcat command in-process; a traceback (an exception other than exit) fails the test."""
    result = CliRunner().invoke(cli, [*map(str, args), "--root", str(root)], env=ENV)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


def error_code(result) -> str:
    line = result.stderr.strip().splitlines()[0]
    assert line.startswith("error["), result.stderr
    return line[len("error[") : line.index("]")]


def frame(n: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "objid": np.arange(1, n + 1, dtype="int64"),
            "RAdeg": rng.uniform(0, 360, n),
            "DEdeg": rng.uniform(-90, 90, n),
            "zspec": rng.uniform(0, 2, n),
            "e_z": rng.uniform(0, 0.01, n),
            "qual": rng.integers(0, 5, n).astype("int64"),
            "survey": ["S1"] * n,
            "zphot": rng.uniform(0, 2, n),
        }
    )


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """Input files of every format, outside the catalog."""
    d = tmp_path / "inputs"
    d.mkdir()
    df = frame()
    df.to_csv(d / "semicolon.csv", sep=";", index=False)
    (d / "headerless.csv").write_text(
        "".join(f"{i},{10 + i}.5,-{i}.25,0.{i}\n" for i in range(1, 8))
    )
    df.to_parquet(d / "sample.parquet", index=False)
    from astropy.table import Table

    t = Table.from_pandas(
        frame()
        .rename(columns={"RAdeg": "ALPHA", "DEdeg": "DELTA", "zspec": "Z", "qual": "ZFLAGS"})
        .astype({"survey": "U4"})
    )
    t["ALPHA"].unit = t["DELTA"].unit = "deg"
    t.write(d / "sample.fits")
    df.astype({"survey": object}).to_hdf(d / "pandas_table.hdf5", key="cat", format="table")
    import h5py

    arr = np.zeros(5, dtype=[("ra", "f8"), ("dec", "f8"), ("z", "f4"), ("name", "S8")])
    arr["ra"], arr["dec"], arr["z"] = (
        [1, 2, 3, 4, 5],
        [-1, -2, -3, -4, -5],
        [0.1, 0.2, 0.3, 0.4, 0.5],
    )
    arr["name"] = [b"a", b"b", b"c", b"d", b"e"]
    with h5py.File(d / "compound.h5", "w") as fh:
        fh.create_dataset("data/table", data=arr)
    shutil.copytree(HATS, d / "elaiss1_hats")
    (d / "report.html").write_text("<h1>Report</h1><p>fine</p>\n")
    (d / "notes.txt").write_text("notes\n")
    (d / "ragged.csv").write_text("ra,dec,z\n1,2,0.1\n3,4\n")
    (d / "no_z.csv").write_text("ra,dec\n1,2\n3,4\n")
    (d / "bad_ra.csv").write_text("ra,dec,z\n1,2,0.1\n400,4,0.2\n")
    raw = (d / "sample.parquet").read_bytes()
    (d / "truncated.parquet").write_bytes(raw[: len(raw) // 2])
    (d / "big.csv").write_text("ra,dec,z\n" + "10.0,20.0,0.5\n" * 2000)
    return d


def _added(root: Path, name: str):
    cat = Catalog.open(root)
    m = cat.get(name)
    report = validate_catalog(cat, [cat.manifest_path(m.internal_name)])
    assert report.valid, report.to_text()
    return m


# -- add on every format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "ptype", "extra", "expect"),
    [
        (
            "semicolon.csv",
            "redshift_catalog",
            [],
            {
                "id": "objid",
                "ra": "RAdeg",
                "dec": "DEdeg",
                "z": "zspec",
                "z_err": "e_z",
                "z_flag": "qual",
                "survey": "survey",
            },
        ),
        (
            "headerless.csv",
            "redshift_catalog",
            ["--column", "ra=f1", "--column", "dec=f2", "--column", "z=f3"],
            {"ra": "f1", "dec": "f2", "z": "f3"},
        ),
        (
            "sample.parquet",
            "training_set",
            ["--release", "dp1", "--column", "z=zphot"],
            {"ra": "RAdeg", "dec": "DEdeg", "z": "zphot", "z_err": "e_z"},
        ),
        (
            "sample.fits",
            "Reference Redshift Catalog",
            [],
            {"ra": "ALPHA", "dec": "DELTA", "z": "Z", "z_flag": "ZFLAGS"},
        ),
        (
            "pandas_table.hdf5",
            "object_catalog",
            ["--release", "DP1", "--column", "z="],
            {"ra": "RAdeg", "dec": "DEdeg"},
        ),
        ("compound.h5", "redshift_catalog", [], {"ra": "ra", "dec": "dec", "z": "z", "id": "name"}),
        # the suggestion would take DECdeg (with -99 sentinels, refused): override it
        (
            "elaiss1_hats",
            "redshift_catalog",
            ["--column", "dec=DEdeg"],
            {"ra": "RAdeg", "dec": "DEdeg", "z": "z"},
        ),
    ],
)
def test_add_every_format(
    demo_root: Path,
    inputs: Path,
    filename: str,
    ptype: str,
    extra: list[str],
    expect: dict[str, str],
) -> None:
    src = inputs / filename
    new_id = Catalog.open(demo_root).next_id()
    result = invoke(
        demo_root,
        "add",
        f"New {filename}",
        "--type",
        ptype,
        "--main",
        src,
        "--uploaded-by",
        "tester",
        *extra,
    )
    assert result.exit_code == 0, result.output + result.stderr
    m = _added(demo_root, f"New {filename}")
    assert m.id == new_id and m.version == 1 and m.uploaded_by == "tester"
    assert m.internal_name == f"{new_id}_new_{filename.replace('.', '')}"
    assert result.stdout.startswith(f"added {m.internal_name} (id {new_id})")
    for role, column in expect.items():
        assert m.column_for(role) == column, (role, m.columns)
    if "z" not in expect:
        assert "z" not in m.columns
    main = m.main_file
    copied = demo_root / main.path
    assert main.path == f"products/{m.internal_name}/{filename}"
    assert copied.exists()
    if src.is_file():
        assert main.size == src.stat().st_size and main.sha256 == sha256_file(src)
        assert copied.read_bytes() == src.read_bytes()
    else:
        assert main.format == "hats" and main.size > 0
    rows = {
        "semicolon.csv": 6,
        "headerless.csv": 7,
        "sample.parquet": 6,
        "sample.fits": 6,
        "pandas_table.hdf5": 6,
        "compound.h5": 5,
        "elaiss1_hats": 478,
    }[filename]
    assert main.n_rows == rows
    names = [c.name for c in main.columns]
    assert set(expect.values()) <= set(names)
    if filename == "sample.fits":
        units = {c.name: c.unit for c in main.columns}
        assert units["ALPHA"] == "deg"
    # the associated columns carry their UCDs
    ucds = {c.name: c.ucd for c in main.columns}
    assert ucds[m.column_for("ra")] == "pos.eq.ra;meta.main"
    # nothing is left behind: no staging folders
    assert not [p for p in (demo_root / "products").iterdir() if p.name.startswith(".")]


def test_add_with_description_and_aux(demo_root: Path, inputs: Path) -> None:
    result = invoke(
        demo_root,
        "add",
        "With extras",
        "--type",
        "validation_results",
        "--release",
        "dp1",
        "--pz-code",
        "BPZ",
        "--main",
        inputs / "sample.parquet",
        "--description-file",
        inputs / "report.html",
        "--aux",
        inputs / "notes.txt",
        "--description",
        "Some **Markdown**.",
        "--uploaded-by",
        "tester",
        "--doi",
        "10.5281/zenodo.1",
        "--citation",
        "Us (2026)",
    )
    assert result.exit_code == 0, result.stderr
    m = _added(demo_root, "With extras")
    assert [f.role for f in m.files] == ["main", "description", "auxiliary"]
    assert m.pz_code == "BPZ" and m.release == "dp1" and m.doi == "10.5281/zenodo.1"
    assert sorted(p.name for p in (demo_root / "products" / m.internal_name).iterdir()) == [
        "notes.txt",
        "report.html",
        "sample.parquet",
    ]


def test_add_by_url(demo_root: Path) -> None:
    result = invoke(
        demo_root,
        "add",
        "Big external",
        "--type",
        "photoz_estimates",
        "--release",
        "dr1",
        "--url",
        "https://zenodo.org/records/1/files/pz.parquet",
        "--format",
        "parquet",
        "--uploaded-by",
        "tester",
    )
    assert result.exit_code == 0, result.stderr
    m = _added(demo_root, "Big external")
    assert m.main_file.url.endswith("pz.parquet") and m.main_file.format == "parquet"
    assert not (demo_root / "products" / m.internal_name).exists()


def test_add_library_suggests_and_overrides(demo_catalog: Catalog, inputs: Path) -> None:
    first = demo_catalog.next_id()
    m = add_product(
        demo_catalog,
        name="Lib",
        product_type="redshift_catalog",
        uploaded_by="me",
        main_file=inputs / "semicolon.csv",
        columns=["z=zphot", "survey="],
    )
    assert m.column_for("z") == "zphot"
    assert m.column_for("z_err") == "e_z"
    assert m.id == first and demo_catalog.next_id() == first + 1


def test_refused_over_limit(demo_root: Path, inputs: Path, snapshot) -> None:
    text = (
        (demo_root / "catalog.yaml")
        .read_text()
        .replace("max_file_bytes: 52428800", "max_file_bytes: 10000")
    )
    (demo_root / "catalog.yaml").write_text(text)
    before = snapshot(demo_root)
    result = invoke(
        demo_root,
        "add",
        "Too big",
        "--type",
        "redshift_catalog",
        "--main",
        inputs / "big.csv",
        "--uploaded-by",
        "tester",
    )
    assert result.exit_code == 1
    assert error_code(result) == "file-too-large"
    assert "--url" in result.stderr and "10,000" in result.stderr
    result = invoke(demo_root, "attach", "1", inputs / "big.csv")
    assert error_code(result) == "file-too-large" and "--url" in result.stderr
    assert snapshot(demo_root) == before


# -- bad input changes nothing ---------------------------------------------------------------------

BAD_COMMANDS = [
    # (args, code, exit); {in} is the inputs folder
    (["add", "X", "--type", "spectra", "--main", "{in}/sample.parquet"], "unknown-product-type", 1),
    (
        ["add", "X", "--type", "training_set", "--release", "dr9", "--main", "{in}/sample.parquet"],
        "unknown-release",
        1,
    ),
    (
        [
            "add",
            "X",
            "--type",
            "redshift_catalog",
            "--release",
            "dp1",
            "--main",
            "{in}/sample.parquet",
        ],
        "release-not-allowed",
        1,
    ),
    (
        ["add", "X", "--type", "training_set", "--pz-code", "BPZ", "--main", "{in}/sample.parquet"],
        "pz-code-not-allowed",
        1,
    ),
    (
        [
            "add",
            "X",
            "--type",
            "other",
            "--main",
            "{in}/sample.parquet",
            "--url",
            "https://h/x.parquet",
        ],
        "usage",
        2,
    ),
    (["add", "X", "--type", "other"], "usage", 2),
    (["add", "  ", "--type", "other", "--main", "{in}/sample.parquet"], "usage", 2),
    (
        ["add", "X", "--type", "other", "--main", "{in}/sample.parquet", "--column", "zphot"],
        "usage",
        2,
    ),
    (
        [
            "add",
            "X",
            "--type",
            "other",
            "--main",
            "{in}/sample.parquet",
            "--aux",
            "{in}/sample.parquet",
        ],
        "usage",
        2,
    ),
    (
        [
            "add",
            "X",
            "--type",
            "redshift_catalog",
            "--main",
            "{in}/sample.parquet",
            "--column",
            "z=redshift",
        ],
        "missing-column",
        1,
    ),
    (["add", "X", "--type", "redshift_catalog", "--main", "{in}/ragged.csv"], "ragged-csv", 1),
    (
        ["add", "X", "--type", "redshift_catalog", "--main", "{in}/truncated.parquet"],
        "truncated-parquet",
        1,
    ),
    (
        ["add", "X", "--type", "redshift_catalog", "--main", "{in}/no_z.csv"],
        "missing-required-column",
        1,
    ),
    (["add", "X", "--type", "redshift_catalog", "--main", "{in}/bad_ra.csv"], "bad-ra-range", 1),
    (
        ["add", "X", "--type", "other", "--main", "{in}/sample.parquet", "--format", "xlsx"],
        "unknown-format",
        1,
    ),
    (
        ["add", "X", "--type", "other", "--url", "https://h/x.xlsx", "--format", "xlsx"],
        "unknown-format",
        1,
    ),
    (
        ["add", "X", "--type", "other", "--url", "ftp://h/x.parquet", "--format", "parquet"],
        "bad-url",
        1,
    ),
    (
        ["add", "X", "--type", "other", "--main", "{in}/sample.parquet", "--official"],
        "official-not-admin",
        1,
    ),
    (["edit", "999", "--description", "x"], "product-not-found", 1),
    (["edit", "1"], "usage", 2),
    (["edit", "2", "--official", "--author", "random-user"], "official-not-admin", 1),
    (["edit", "1", "--official", "--author", "random-user"], "usage", 2),  # official already
    (["edit", "6", "--not-official", "--author", "random-user"], "official-not-admin", 1),
    (["edit", "6", "--release", "dr9"], "unknown-release", 1),
    (["edit", "1", "--release", "dp1"], "release-not-allowed", 1),
    (["edit", "6", "--pz-code", "BPZ"], "pz-code-not-allowed", 1),
    (["edit", "1", "--column", "z=no_such_column"], "missing-column", 1),
    (["edit", "1", "--column", "z="], "missing-required-column", 1),
    (["edit", "1", "--column", "nonsense"], "usage", 2),
    (["attach", "1"], "usage", 2),
    (["attach", "1", "{in}/notes.txt", "--url", "https://h/x.txt"], "usage", 2),
    (["attach", "1", "{in}/sample.parquet", "--role", "main"], "usage", 2),
    (["attach", "1", "--url", "ftp://h/x.txt"], "bad-url", 1),
    (["attach", "1", "--url", "https://h/x.txt", "--format", "docx"], "unknown-format", 1),
    (
        ["attach", "1", "REPO/products/1_vvds_final_release_sample/vvds_final_release_sample.fits"],
        "file-exists",
        1,
    ),
    (["attach", "999", "{in}/notes.txt"], "product-not-found", 1),
    (["detach", "8", "nothing.png"], "file-missing", 1),
    (["detach", "8", "bpz_validation_metrics.csv"], "usage", 2),
    (["deprecate", "1", "--reason", "  "], "usage", 2),
    (["deprecate", "999", "--reason", "old"], "product-not-found", 1),
    (["show", "no_such_product"], "product-not-found", 1),
    (["list", "--type", "spectra"], "usage", 2),
]


@pytest.mark.parametrize(
    ("args", "code", "exit_code"),
    BAD_COMMANDS,
    ids=[f"{a[0]}-{c}-{i}" for i, (a, c, _) in enumerate(BAD_COMMANDS)],
)
def test_bad_command_changes_nothing(
    demo_root: Path, inputs: Path, snapshot, args: list[str], code: str, exit_code: int
) -> None:
    args = [a.replace("{in}", str(inputs)).replace("REPO", str(REPO)) for a in args]
    if args[0] == "add":
        args += ["--uploaded-by", "tester"]
    before = snapshot(demo_root)
    inputs_before = snapshot(inputs)
    result = invoke(demo_root, *args)
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    assert error_code(result) == code, result.stderr
    assert snapshot(demo_root) == before
    assert snapshot(inputs) == inputs_before


def test_deprecate_twice_changes_nothing(demo_root: Path, snapshot) -> None:
    assert invoke(demo_root, "deprecate", "2", "--reason", "superseded").exit_code == 0
    before = snapshot(demo_root)
    result = invoke(demo_root, "deprecate", "2", "--reason", "again")
    assert result.exit_code == 2 and error_code(result) == "usage"
    assert snapshot(demo_root) == before


def test_add_existing_product_refused(demo_catalog: Catalog, inputs: Path, snapshot) -> None:
    before = snapshot(demo_catalog.root)
    with pytest.raises(PzcatError) as err:
        add_product(
            demo_catalog,
            name="VVDS final release sample",
            product_type="redshift_catalog",
            uploaded_by="me",
            main_file=inputs / "sample.parquet",
            product_id=1,
        )
    assert err.value.code == "file-exists"
    with pytest.raises(PzcatError) as err:
        add_product(
            demo_catalog,
            name="Nobody",
            product_type="other",
            uploaded_by="",
            main_file=inputs / "sample.parquet",
        )
    assert err.value.code == "bad-value"
    assert snapshot(demo_catalog.root) == before


def test_unknown_product(demo_catalog: Catalog) -> None:
    with pytest.raises(PzcatError) as err:
        demo_catalog.get("no_such_product")
    assert err.value.code == "product-not-found"


def test_cli_errors_have_no_traceback(demo_root: Path, inputs: Path, pzcat) -> None:
    """The real console script: coded message on stderr, exit code, no traceback."""
    out = pzcat(
        "add",
        "X",
        "--type",
        "redshift_catalog",
        "--main",
        inputs / "truncated.parquet",
        "--uploaded-by",
        "t",
        "--root",
        demo_root,
    )
    assert out.returncode == 1 and out.stderr.startswith("error[truncated-parquet]: ")
    assert "Traceback" not in out.stderr
    out = pzcat("attach", "1", "--url", "https://h/x", "--format", "docx", "--root", demo_root)
    assert out.returncode == 1 and out.stderr.startswith("error[unknown-format]: ")
    out = pzcat("show", "nope", "--root", demo_root)
    assert out.returncode == 1 and out.stderr.startswith("error[product-not-found]: ")


# -- versions --------------------------------------------------------------------------------------


def test_every_edit_bumps_the_version(demo_git_root: Path, inputs: Path) -> None:
    root = demo_git_root
    path = root / "manifests" / "8_bpz_validation_on_ecdfs.yaml"
    v0 = load_manifest(path)
    steps = [
        ("edit", "8", "--description", "New words.", "--author", "someone"),
        ("edit", "8", "--doi", "10.5281/zenodo.42", "--author", "someone"),
        ("attach", "8", str(inputs / "notes.txt")),
        ("attach", "8", "--url", "https://example.org/big.parquet", "--format", "parquet"),
        ("detach", "8", "notes.txt"),
        ("detach", "8", "https://example.org/big.parquet"),
        ("deprecate", "8", "--reason", "Superseded by a newer run."),
    ]
    version = v0.version
    # --refresh with nothing changed on disk is refused; after a file changes it records it
    assert invoke(root, "edit", "8", "--refresh").exit_code == 2
    csv = root / "products" / "8_bpz_validation_on_ecdfs" / "bpz_validation_metrics.csv"
    csv.write_text(csv.read_text() + "3.0,3.5,1,0.0,0.1,0.0\n")
    report = validate_catalog(Catalog.open(root), changed_since="HEAD")
    assert {"checksum-mismatch", "size-mismatch", "n-rows-mismatch"} <= report.codes()
    steps.insert(0, ("edit", "8", "--refresh", "--author", "someone"))
    for step in steps:
        result = invoke(root, *step)
        assert result.exit_code == 0, (step, result.stderr)
        m = load_manifest(path)
        version += 1
        assert m.version == version, step
        assert m.updated >= m.created and m.created == v0.created and m.id == v0.id
        report = validate_catalog(
            Catalog.open(root), [path], changed_since="HEAD", author="someone"
        )
        assert report.valid and [p.name for p in report.products] == [m.internal_name], (
            step,
            report.to_text(),
        )
    assert not (root / "products" / "8_bpz_validation_on_ecdfs" / "notes.txt").exists()
    m = load_manifest(path)
    assert m.status == "deprecated" and m.deprecation_reason == "Superseded by a newer run."
    assert m.doi == "10.5281/zenodo.42" and m.description == "New words."
    # the whole history passes the version check against the first commit
    out = invoke(root, "validate", "--changed-since", "HEAD", "--author", "someone", "--no-tables")
    assert out.exit_code == 0, out.stdout


def test_hand_edit_without_bump_is_caught(demo_git_root: Path) -> None:
    path = demo_git_root / "manifests" / "3_desi_dr1_in_dp1_fields_sample.yaml"
    path.write_text(path.read_text().replace("version: 1", "version: 1\ncitation: Someone (2026)"))
    out = invoke(demo_git_root, "validate", "--changed-since", "HEAD", "--format", "json")
    assert out.exit_code == 1
    data = json.loads(out.stdout)
    assert [p["name"] for p in data["products"]] == ["3_desi_dr1_in_dp1_fields_sample"]
    assert {e["code"] for e in data["products"][0]["errors"]} == {"version-not-bumped"}
    # a changed data file counts as a change too
    csv = next((demo_git_root / "products" / "11_dp1_field_centres").iterdir())
    csv.write_text(csv.read_text())  # same bytes: nothing changed
    out = invoke(demo_git_root, "validate", "--changed-since", "HEAD")
    assert "11_dp1_field_centres" not in out.stdout


def test_official_only_by_admins(demo_git_root: Path) -> None:
    root = demo_git_root
    ok = invoke(root, "edit", "2", "--official", "--author", "pz-coordination")
    assert ok.exit_code == 0, ok.stderr
    m = Catalog.open(root).get(2)
    assert m.official and m.version == 2
    for author, exit_code in (("pz-coordination", 0), ("Julia-Gschwend", 0), ("random-user", 1)):
        out = invoke(
            root, "validate", "--changed-since", "HEAD", "--author", author, "--format", "github"
        )
        assert out.exit_code == exit_code, (author, out.stdout)
    assert "title=official-not-admin" in out.stdout
    # library level: the same refusal
    with pytest.raises(PzcatError) as err:
        edit_product(Catalog.open(root), "3", author=None, official=True)
    assert err.value.code == "official-not-admin"
    # an admin may add an official product
    ok = invoke(
        root,
        "add",
        "Official one",
        "--type",
        "other",
        "--main",
        str(root / "products" / "11_dp1_field_centres" / "dp1_fields.csv"),
        "--official",
        "--uploaded-by",
        "pz-coordination",
    )
    assert ok.exit_code == 0, ok.stderr
    assert Catalog.open(root).get("Official one").official


# -- list and show ---------------------------------------------------------------------------------


def test_list(demo_root: Path) -> None:
    out = invoke(demo_root, "list")
    assert out.exit_code == 0
    lines = out.stdout.strip().splitlines()
    assert lines[0].split()[:2] == ["id", "internal_name"]
    n = len(list((demo_root / "manifests").glob("*.yaml")))
    assert lines[-1] == f"{n} products (* official)"
    assert len(lines) == n + 2
    assert sum(1 for ln in lines if ln.endswith(" *")) == 2
    out = invoke(demo_root, "list", "--type", "Training Set", "--release", "DP1")
    assert "6_dp1_ecdfs_training_set" in out.stdout and out.stdout.strip().endswith(
        "1 products (* official)"
    )
    data = json.loads(invoke(demo_root, "list", "--official", "--format", "json").stdout)
    assert all(p["official"] for p in data) and len(data) == 2


def test_show(demo_root: Path) -> None:
    out = invoke(demo_root, "show", "1")
    assert out.exit_code == 0
    assert out.stdout.startswith(
        "VVDS final release sample  (1_vvds_final_release_sample, id 1, version 1, published)"
    )
    assert (
        "[main] products/1_vvds_final_release_sample/vvds_final_release_sample.fits (fits"
        in out.stdout
    )
    assert "columns: " in out.stdout
    by_name = invoke(demo_root, "show", "1_vvds_final_release_sample").stdout
    assert by_name == out.stdout
    as_yaml = yaml.safe_load(invoke(demo_root, "show", "1", "--format", "yaml").stdout)
    on_disk = yaml.safe_load(
        (demo_root / "manifests" / "1_vvds_final_release_sample.yaml").read_text()
    )
    assert as_yaml == on_disk
    as_json = json.loads(invoke(demo_root, "show", "9", "--format", "json").stdout)
    assert as_json["internal_name"] == "9_bpz_estimates_for_ecdfs_objects"


def test_add_by_subprocess_in_git_repo(demo_git_root: Path, inputs: Path, pzcat) -> None:
    """The console script end to end; the new product passes the changed-since checks."""
    new_id = Catalog.open(demo_git_root).next_id()
    out = pzcat(
        "add",
        "Subprocess sample",
        "--type",
        "redshift_catalog",
        "--main",
        inputs / "sample.fits",
        "--uploaded-by",
        "tester",
        cwd=demo_git_root,
    )
    assert out.returncode == 0, out.stderr
    out = pzcat(
        "validate",
        "--changed-since",
        "HEAD",
        "--author",
        "tester",
        "--format",
        "json",
        cwd=demo_git_root,
    )
    assert out.returncode == 0, out.stdout
    data = json.loads(out.stdout)
    assert [p["name"] for p in data["products"]] == [f"{new_id}_subprocess_sample"]
    status = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=demo_git_root,
        text=True,
        capture_output=True,
        check=True,
    ).stdout
    assert sorted(line[3:] for line in status.splitlines()) == [
        f"manifests/{new_id}_subprocess_sample.yaml",
        f"products/{new_id}_subprocess_sample/",
    ]


def test_library_add_enforces_the_official_rule(demo_root: Path, inputs: Path, snapshot) -> None:
    """add_product checks what `pzcat add --official` checks: only admins add official products."""
    before = snapshot(demo_root)
    with pytest.raises(PzcatError) as exc:
        add_product(
            Catalog.open(demo_root),
            name="Not mine",
            product_type="redshift_catalog",
            uploaded_by="random-user",
            main_file=inputs / "sample.parquet",
            official=True,
        )
    assert exc.value.code == "official-not-admin"
    assert snapshot(demo_root) == before
    m = add_product(
        Catalog.open(demo_root),
        name="Mine",
        product_type="redshift_catalog",
        uploaded_by="pz-coordination",
        main_file=inputs / "sample.parquet",
        official=True,
    )
    assert m.official
