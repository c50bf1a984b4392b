"""The tutorial notebook (docs/notebooks/pzserver_tutorial.ipynb) against a live `pzcat serve` on
loopback, twice: with `from pzcat import PzServer` and with LIneA's `pzserver` 0.3.7, unmodified,
installed in a virtual environment of its own (it pins pandas < 3), built once and cached under
`.pzcat-cache/` (gitignored)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest
from api_helpers import token

from pzcat_datasette.launch import stop_serve

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "docs" / "notebooks" / "pzserver_tutorial.ipynb"
RUNNER = Path(__file__).with_name("tutorial.py")
PZSERVER = "pzserver==0.3.7"
VENV = REPO / ".pzcat-cache" / "pzserver-0.3.7"


def pzserver_python() -> Path:
    """The Python of a venv holding the real client (built on first use, under a lock)."""
    python = VENV / "bin" / "python"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(VENV.parent / "pzserver-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ok = (
            python.exists()
            and subprocess.run(
                [
                    str(python),
                    "-c",
                    "import pzserver, sys; sys.exit(pzserver.__version__ != '0.3.7')",
                ],
                capture_output=True,
            ).returncode
            == 0
        )
        if not ok:
            venv.create(VENV, with_pip=True, clear=True)
            proc = subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", PZSERVER],
                capture_output=True,
                text=True,
                timeout=1800,
            )
            if proc.returncode != 0:
                pytest.fail(f"could not install {PZSERVER}: {proc.stderr[-2000:]}")
    return python


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A real `pzcat serve` process on 127.0.0.1 (free port) over a git copy of the demo."""
    from demo_copy import copy_catalog

    from pzcat.catalog import Catalog
    from pzcat_datasette.previews import build_previews

    base = tmp_path_factory.mktemp("tutorial")
    root = copy_catalog(base / "repo", git=True)
    bare = base / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    subprocess.run(["git", "-C", str(root), "remote", "add", "origin", str(bare)], check=True)
    secret = "tutorial-secret-0123456789abcdef"
    env = {**os.environ, "PZCAT_SECRET": secret}
    os.environ["PZCAT_SECRET"] = secret
    build_previews(Catalog.open(root))
    log = base / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pzcat.cli",
                "serve",
                "--root",
                str(root),
                "--port",
                "0",
                "--quiet",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.time() + 60
        url = None
        while time.time() < deadline and url is None:
            found = re.search(r"http://127\.0\.0\.1:\d+/", log.read_text())
            url = found.group(0) if found else None
            if proc.poll() is not None:
                pytest.fail(f"server exited: {log.read_text()}")
            time.sleep(0.2)
        assert url, log.read_text()
        yield {
            "url": url,
            "token": token("tutorial-user", scope="write"),
            "env": env,
            "remote": bare,
        }
    finally:
        stop_serve(proc, timeout=30)  # terminate, then kill


def run_tutorial(python: Path, client: str, live: dict, tmp_path: Path) -> dict:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    env = {
        **live["env"],
        "PZ_CLIENT": client,
        "PZ_HOST": live["url"] + "api/",
        "PZ_TOKEN": live["token"],
        "PZ_DOWNLOADS": str(downloads),
        "MPLBACKEND": "Agg",
        "PYTHONPATH": "",
    }
    proc = subprocess.run(
        [str(python), str(RUNNER), str(NOTEBOOK)],
        cwd=NOTEBOOK.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert "=== tutorial report ===" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(proc.stdout.split("=== tutorial report ===", 1)[1])
    (tmp_path / f"report-{client}.json").write_text(json.dumps(report, indent=1))
    return report


def _assert_answers(report: dict) -> None:
    a = report["answers"]
    assert report["n_calls"] == 53
    assert a["training_results"] == ["7_bpz_inform_model"]
    assert a["internal_name"] == "6_dp1_ecdfs_training_set"
    assert a["downloads"] == ["6_dp1_ecdfs_training_set.zip"]
    assert isinstance(a["upload_id"], int) and a["upload_columns"] == ["DEC", "ID", "RA", "Z"]
    assert a["attributes_description"] == "test update description"
    assert a["upload_status"] == "Registering"
    assert a["crc_status"] == "Successful" and a["crc_inputs"] == [1, 2, 3]
    assert a["specz_rows"] > 2000 and {"ra", "dec", "z", "tie_result"} <= set(a["specz_columns"])
    assert a["tsm_ran"] is False
    assert a["parameters"] == [
        "combine_type",
        "flags_translation_file",
        "z_flag_homogenized_value_to_cut",
    ]
    # the demo's HDF5 training set, read by pzcat's readers or by the real client's tables_io
    assert a["data_rows"] == 5000 and a["training_rows"] == 5000


def test_tutorial_with_pzcat_client(live, tmp_path) -> None:
    report = run_tutorial(Path(sys.executable), "pzcat", live, tmp_path)
    assert report["calls_failed"] == {}, report["log_tail"]
    _assert_answers(report)


def test_tutorial_with_the_real_pzserver_client(live, tmp_path) -> None:
    report = run_tutorial(pzserver_python(), "pzserver", live, tmp_path)
    assert report["calls_failed"] == {}, report["log_tail"]
    assert len(report["calls_passed"]) == 53
    _assert_answers(report)
