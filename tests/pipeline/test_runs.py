"""`pzcat combine`, `pzcat run`, `pzcat reproduce` on a copy of the demo catalog."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from pipelines.combine import cli as combine_cli
from pzcat import runs
from pzcat.catalog import Catalog
from pzcat.cli import cli

runs.register(cli)
combine_cli.register(cli)
PZCAT = [sys.executable, "-c", "from pzcat.cli import main; main()"]
INPUTS = ["--input", "1", "--input", "2", "--input", "4"]


def invoke(root: Path, *args: str):
    return CliRunner().invoke(cli, [*args, "--root", str(root)], catch_exceptions=False)


def next_name(root: Path, slug: str) -> str:
    """The internal name the next product of the catalog at ``root`` gets."""
    return f"{Catalog.open(root).next_id()}_{slug}"


def manifest(root: Path, name: str) -> dict:
    return yaml.safe_load((root / "manifests" / f"{name}.yaml").read_text())


def test_combine_run_reproduce(demo_root):
    name = next_name(demo_root, "combined_specz")
    result = invoke(
        demo_root,
        "combine",
        "--name",
        "Combined specz",
        *INPUTS,
        "--duplicates",
        "remove",
        "--uploaded-by",
        "tester",
        "--run",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    data = manifest(demo_root, name)
    assert data["status"] == "published" and data["product_type"] == "redshift_catalog"
    assert data["columns"]["id"]["column"] == "CRD_ID"
    assert data["columns"]["z_flag"]["column"] == "z_flag_homogenized"
    prov = data["provenance"]
    assert prov["config"]["duplicates"] == "remove"
    assert [i["internal_name"] for i in prov["inputs"]] == [
        "1_vvds_final_release_sample",
        "2_2dflens_final_release_sample",
        "4_6dfgs_dr3_sample",
    ]
    assert all(len(f["sha256"]) == 64 for i in prov["inputs"] for f in i["files"])
    assert prov["summary"]["rows_in"]["2_2dflens_final_release_sample"] == 1000
    assert "timings_s" in prov["summary"] and "pandas" in prov["software"]
    main = data["files"][0]
    assert (demo_root / main["path"]).is_file() and main["n_rows"] == prov["summary"]["rows"]
    assert not [p for p in (demo_root / "products").iterdir() if p.name.startswith(".")]
    result = invoke(demo_root, "reproduce", name, "--quiet")
    assert result.exit_code == 0 and "identical" in result.output
    # a changed output is reported
    out = demo_root / main["path"]
    out.write_bytes(out.read_bytes() + b"x")
    Catalog.open(demo_root)
    result = CliRunner().invoke(cli, ["reproduce", name, "--quiet", "--root", str(demo_root)])
    assert result.exit_code == 1 and "DIFFERENT" in result.output


def test_failed_run_publishes_nothing_and_rerun_starts_clean(demo_root):
    name = next_name(demo_root, "will_fail")
    result = invoke(demo_root, "combine", "--name", "Will fail", *INPUTS, "--uploaded-by", "t")
    assert result.exit_code == 0, result.output
    assert manifest(demo_root, name)["status"] == "pending"
    # an input changes after the run was created: the run refuses
    src = demo_root / "products" / "4_6dfgs_dr3_sample" / "6dfgs_dr3_sample.parquet"
    original = src.read_bytes()
    src.write_bytes(original + b"\0")
    result = CliRunner().invoke(cli, ["run", name, "--quiet", "--root", str(demo_root)])
    assert result.exit_code == 1 and "input-changed" in result.output
    data = manifest(demo_root, name)
    assert data["status"] == "pending" and data["provenance"]["error"]["code"] == "input-changed"
    assert not (demo_root / "products" / name).exists()
    # leftovers of a killed run are cleaned (pid-named: 4000000 is above pid_max, never alive),
    # those of a running one are left alone; the rerun publishes
    src.write_bytes(original)
    stale = demo_root / "products" / f".{name}.run.4000000.x1y2.tmp"
    stale.mkdir()
    (stale / "junk.parquet").write_bytes(b"partial")
    live = demo_root / "products" / f".{name}.run.{os.getpid()}.abcd.tmp"
    live.mkdir()
    result = invoke(demo_root, "run", "--pending", "--quiet")
    assert result.exit_code == 0, result.output
    data = manifest(demo_root, name)
    assert data["status"] == "published" and "error" not in data["provenance"]
    assert not stale.exists() and live.is_dir()
    live.rmdir()


def test_kill_9_then_rerun(demo_root):
    name = next_name(demo_root, "killed")
    invoke(demo_root, "combine", "--name", "Killed", *INPUTS, "--uploaded-by", "t")
    env = dict(os.environ, PZCAT_ROOT=str(demo_root))
    proc = subprocess.Popen(
        [*PZCAT, "run", name], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    # kill -9 as soon as the run has started writing its staging folder
    products = demo_root / "products"
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(f".{name}") for p in products.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    data = manifest(demo_root, name)
    if proc.returncode == -signal.SIGKILL:
        assert data["status"] == "pending"
        assert not (products / name).exists()
    done = subprocess.run(
        [*PZCAT, "run", "--pending", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if data["status"] == "pending":
        assert done.returncode == 0, done.stderr
    assert manifest(demo_root, name)["status"] == "published"
    assert not [p for p in (demo_root / "products").iterdir() if p.name.startswith(".")]
    check = subprocess.run(
        [*PZCAT, "reproduce", name, "--quiet"], env=env, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(
    "args, code",
    [
        (["--input", "7"], "not-a-redshift-catalog"),
        (["--input", "999"], "product-not-found"),
    ],
)
def test_combine_refuses(demo_root, args, code):
    result = CliRunner().invoke(
        cli, ["combine", "--name", "x", *args, "--uploaded-by", "t", "--root", str(demo_root)]
    )
    assert result.exit_code != 0 and code in result.output
    assert not (demo_root / "manifests" / next_name(demo_root, "x")).with_suffix(".yaml").exists()


def test_config_file_with_a_flags_file_of_the_repository(demo_root, tmp_path):
    name = next_name(demo_root, "with_config")
    flags = demo_root / "flags.yaml"
    flags.write_text(
        (Path(__file__).parents[2] / "pipelines/data/flags_translation.yaml").read_text()
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"flags_file": str(flags), "delta_z_threshold": 0.001, "crossmatch_radius_arcsec": 1.0}
        )
    )
    result = invoke(
        demo_root,
        "combine",
        "--name",
        "With config",
        *INPUTS,
        "--config",
        str(config),
        "--format",
        "csv",
        "--uploaded-by",
        "t",
        "--run",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    data = manifest(demo_root, name)
    assert data["provenance"]["config"]["flags_file"] == "flags.yaml"
    assert data["provenance"]["config"]["crossmatch_radius_arcsec"] == 1.0
    assert data["files"][0]["format"] == "csv"
    assert invoke(demo_root, "reproduce", name, "--quiet").exit_code == 0
    outside = tmp_path / "flags.yaml"
    outside.write_text(flags.read_text())
    config.write_text(yaml.safe_dump({"flags_file": str(outside)}))
    result = CliRunner().invoke(
        cli,
        [
            "combine",
            "--name",
            "Outside",
            *INPUTS,
            "--config",
            str(config),
            "--uploaded-by",
            "t",
            "--root",
            str(demo_root),
        ],
    )
    assert result.exit_code == 1 and "inside the repository" in result.output


def test_a_parquet_dataset_layout_cannot_be_published(demo_root, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"output_layout": "dataset"}))
    result = CliRunner().invoke(
        cli,
        [
            "combine",
            "--name",
            "dataset",
            *INPUTS,
            "--config",
            str(config),
            "--uploaded-by",
            "t",
            "--root",
            str(demo_root),
        ],
    )
    assert result.exit_code != 0 and "invalid-config" in result.output
    assert "hats" in result.output
    assert (
        not (demo_root / "manifests" / next_name(demo_root, "dataset"))
        .with_suffix(".yaml")
        .exists()
    )


def test_hats_output_is_published_and_reproduced(demo_root):
    name = next_name(demo_root, "combined_hats")
    result = invoke(
        demo_root,
        "combine",
        "--name",
        "Combined hats",
        *INPUTS,
        "--format",
        "hats",
        "--uploaded-by",
        "tester",
        "--run",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    data = manifest(demo_root, name)
    main = data["files"][0]
    assert data["status"] == "published" and main["format"] == "hats"
    assert main["n_rows"] == data["provenance"]["summary"]["rows"]
    assert (demo_root / main["path"] / "collection.properties").is_file()
    result = invoke(demo_root, "reproduce", name, "--quiet")
    assert result.exit_code == 0 and "identical" in result.output
