"""`python -m pipelines.combine SPEC OUT` (the benchmark's command)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.pipeline.samples import BAD, REFERENCE_FLAGS, sample_inputs

REPO = Path(__file__).resolve().parents[2]


def _spec(tmp_path: Path, inputs: list[dict]) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "inputs": inputs,
                "config": {
                    "duplicates": "mark",
                    "output_format": "fits",
                    "flags_file": str(REFERENCE_FLAGS),
                },
            }
        )
    )
    return spec


def test_module_command(tmp_path):
    inputs = [
        {"internal_name": i.internal_name, "path": str(i.path), "columns": i.columns}
        for i in sample_inputs()[:3]
    ]
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.combine",
            str(_spec(tmp_path, inputs)),
            str(out),
            "--result",
            str(tmp_path / "r.json"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "[combine] done" in proc.stderr
    assert (out / "crd.fits").exists()
    assert json.loads((tmp_path / "r.json").read_text())["rows"] == 3000


def test_module_command_error(tmp_path):
    inputs = [
        {
            "internal_name": "001_bad",
            "path": str(BAD / "test_survey_not_supported.parquet"),
            "columns": {"ra": "ra", "dec": "dec", "z": "z", "z_flag": "z_flag", "survey": "survey"},
        }
    ]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.combine",
            str(_spec(tmp_path, inputs)),
            str(tmp_path / "out"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "error[survey-not-supported]" in proc.stderr and "NOT_SUPPORTED" in proc.stderr
    assert not (tmp_path / "out").exists()
