"""What contributors meet with real catalogs: missing redshifts, placeholders, comments, every
problem in one run, column guesses, `pzcat validate NAME`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pzcat.cli import cli
from pzcat.manifest import ColumnInfo
from pzcat.products import suggest_columns

ENV = {"PZCAT_ROOT": None, "GITHUB_ACTOR": None}


def invoke(root: Path, *args: str):
    result = CliRunner().invoke(cli, [*map(str, args), "--root", str(root)], env=ENV)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result


@pytest.mark.parametrize(
    "name",
    [
        "zspec_err",
        "z_err",
        "e_z",
        "zerr",
        "redshift_err",
        "Z_ERR",
        "ZERR",
        "zbest_err",
        "sigma_z",
        "z_error",
        "redshift_error",
    ],
)
def test_z_err_spellings(name: str) -> None:
    cols = [ColumnInfo(name=n, dtype="float64") for n in ("ra", "dec", "zspec", name)]
    assert suggest_columns(cols) == {"ra": "ra", "dec": "dec", "z": "zspec", "z_err": name}


def test_add_keeps_missing_redshifts_and_says_what_it_guessed(
    demo_root: Path, tmp_path: Path
) -> None:
    src = tmp_path / "vimos.csv"
    src.write_text(
        "# VIMOS sample; z = -1 means no redshift\nID,RA,DEC,zspec,zspec_err\n"
        "1,10.0,-5.0,0.5,0.001\n2,10.1,-5.1,,\n3,10.2,-5.2,-1,-99\n4,360.0,-5.3,1.2,0.01\n"
    )
    out = invoke(demo_root, "add", "VIMOS sample", "--type", "redshift_catalog", "--main", src)
    assert out.exit_code == 0, out.stderr
    assert (
        "columns guessed from names and UCDs: id=ID, ra=RA, dec=DEC, z=zspec, z_err=zspec_err"
        in out.stdout
    )
    codes = {line.split("]")[0].removeprefix("warning[") for line in out.stderr.splitlines()}
    assert {"csv-comments", "missing-redshift", "sentinel-values", "missing-values"} <= codes
    # validate by id and by internal name, as `pzcat show` takes them
    internal = out.stdout.split()[1]
    product_id = internal.split("_", 1)[0]
    for key in (product_id, internal):
        res = invoke(demo_root, "validate", key, "--format", "json")
        assert res.exit_code == 0, res.stdout
        assert '"missing-redshift"' in res.stdout
    assert invoke(demo_root, "validate", "no_such_product").exit_code == 1


def test_add_reports_every_problem_in_one_run(demo_root: Path, tmp_path: Path, snapshot) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("id,ra,dec,z\n1,400.0,-5.0,0.5\n2,10.0,-95.0,0.6\n3,10.0,0.0,0.7\n")
    before = snapshot(demo_root)
    out = invoke(demo_root, "add", "Bad sample", "--type", "redshift_catalog", "--main", src)
    assert out.exit_code == 1
    lines = out.stderr.splitlines()
    assert lines[0].startswith("error[bad-ra-range]: 2 problems")
    assert any("error[bad-dec-range]" in ln and "rows [2]" in ln for ln in lines[1:])
    assert any("error[bad-ra-range]" in ln and "rows [1]" in ln for ln in lines[1:])
    assert snapshot(demo_root) == before
