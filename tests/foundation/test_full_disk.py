"""Faults while writing: a full disk (simulated with RLIMIT_FSIZE in a subprocess: writes past the
limit fail with EFBIG, as ENOSPC would) during `pzcat add` and `pzcat build-previews` gives a coded
error and leaves nothing behind; temporary folders of killed runs are removed by the next run.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

PZCAT = str(Path(sys.executable).with_name("pzcat"))
DEAD_PID = 4_000_000  # above pid_max: never a live process


def _run(root: Path, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails instead of killing
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [PZCAT, *args, "--root", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=300,
        env={**os.environ, "GITHUB_ACTOR": "tester"},
    )


def _leftovers(root: Path) -> list[str]:
    products = root / "products"
    return sorted(
        p.name
        for p in products.iterdir()
        if p.name.startswith(".") or p.name.endswith("wide_sample")
    )


def _wide_csv(path: Path, n_columns: int) -> Path:
    names = ["ra", "dec", "z"] + [f"col_with_a_long_name_{i}" for i in range(n_columns)]
    path.write_text(
        ",".join(names) + "\n" + ",".join(["10.0", "-5.0", "0.5"] + ["1"] * n_columns) + "\n"
    )
    return path


@pytest.mark.parametrize(
    ("n_columns", "fsize", "where"),
    [
        (10, 50, "the copy of the main file"),
        (400, 16_000, "the manifest (bigger than its table)"),
    ],
)
def test_full_disk_during_add(
    demo_root: Path, tmp_path: Path, n_columns: int, fsize: int, where: str
) -> None:
    csv = _wide_csv(tmp_path / "wide.csv", n_columns)
    assert csv.stat().st_size < 16_000
    manifests = sorted(p.name for p in (demo_root / "manifests").iterdir())
    out = _run(
        demo_root,
        "add",
        "Wide sample",
        "--type",
        "redshift_catalog",
        "--main",
        str(csv),
        fsize=fsize,
    )
    assert "Traceback" not in out.stderr, out.stderr
    assert "error[write-failed]" in out.stderr + out.stdout, (where, out.stdout, out.stderr)
    assert out.returncode != 0
    assert _leftovers(demo_root) == [], f"left behind after a full disk during {where}"
    assert sorted(p.name for p in (demo_root / "manifests").iterdir()) == manifests
    again = _run(demo_root, "add", "Wide sample", "--type", "redshift_catalog", "--main", str(csv))
    assert again.returncode == 0, again.stderr  # no file-exists: the rerun just works


def test_temp_folders_of_killed_runs_are_removed(demo_root: Path, tmp_path: Path) -> None:
    stale = demo_root / "products" / f".13_wide_sample.{DEAD_PID}.x1y2.tmp"
    stale.mkdir()
    (stale / "half.csv").write_text("ra,dec\n")
    mine = demo_root / "products" / f".13_other.{os.getpid()}.abcd.tmp"  # a live process's
    mine.mkdir()
    db_stale = demo_root / "build" / f".previews.db.{DEAD_PID}.tmp"
    db_stale.parent.mkdir(parents=True, exist_ok=True)
    db_stale.write_bytes(b"half a database")
    csv = _wide_csv(tmp_path / "wide.csv", 3)
    assert (
        _run(
            demo_root, "add", "Wide sample", "--type", "redshift_catalog", "--main", str(csv)
        ).returncode
        == 0
    )
    assert not stale.exists() and mine.exists()
    assert _run(demo_root, "build-previews").returncode == 0
    assert not db_stale.exists()


def test_full_disk_during_build_previews(demo_root: Path) -> None:
    assert _run(demo_root, "build-previews").returncode == 0
    db = demo_root / "build" / "previews.db"
    before = db.read_bytes()
    out = _run(demo_root, "build-previews", "--force", fsize=200_000)
    assert "Traceback" not in out.stderr, out.stderr
    assert "error[previews-build]" in out.stderr + out.stdout
    assert db.read_bytes() == before
    assert not [p for p in db.parent.iterdir() if p.name.endswith(".tmp")]
