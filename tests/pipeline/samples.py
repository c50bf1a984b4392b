"""The 13 real samples of the reference run, as CombineInput objects (files inside the repo)."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines.combine.inputs import CombineInput

DATA = Path(__file__).resolve().parents[1] / "data" / "pipeline"
SAMPLES = DATA / "samples"
REFERENCE = DATA / "reference"
REFERENCE_FLAGS = DATA / "reference_flags_translation.yaml"
BAD = DATA / "bad_inputs"

#: The reference's parameters (README of the shared data).
REFERENCE_PARAMS = {
    "crossmatch_radius_arcsec": 0.5,
    "n_neighbors": 10,
    "delta_z_threshold": 0.001,
    "tiebreaking_priority": ["z_flag_homogenized", "type_homogenized"],
    "type_priority": {"s": 3, "g": 2, "p": 1},
    "flags_file": str(REFERENCE_FLAGS),
}


def sample_inputs() -> list[CombineInput]:
    """The 13 inputs in the reference's order (prefixes 001..013)."""
    config = yaml.safe_load((REFERENCE / "mark" / "config.yaml").read_text())
    out = []
    for spec in config["inputs"]["specz"]:
        path = SAMPLES / Path(spec["path"]).name
        out.append(
            CombineInput(
                internal_name=spec["internal_name"],
                version=1,
                path=path,
                format="parquet",
                columns={k: v for k, v in spec["columns"].items() if v},
            )
        )
    return out
