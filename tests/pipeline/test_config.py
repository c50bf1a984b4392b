"""The run configuration."""

from __future__ import annotations

import json

import pytest

from pipelines.combine.config import CombineConfig
from pipelines.combine.errors import PipelineError


def test_round_trip_through_plain_data():
    config = CombineConfig(
        duplicates="remove",
        keep_hard_ties=True,
        cut=3,
        tiebreaking_priority=["z_flag_homogenized", "instrument_type_homogenized"],
        executor={"kind": "slurm", "n_workers": 4, "slurm": {"cores": 8}},
    )
    data = json.loads(json.dumps(config.to_dict()))
    assert CombineConfig.from_dict(data) == config
    assert data["tiebreaking_priority"] == ["z_flag_homogenized", "type_homogenized"]
    assert CombineConfig().to_dict()["delta_z_threshold"] == 0.0005


@pytest.mark.parametrize(
    "bad",
    [
        {"duplicates": "maybe"},
        {"cut": 5},
        {"crossmatch_radius_arcsec": -1},
        {"type_priority": {"x": 1}},
        {"executor": {"kind": "distributed"}},
        {"unknown": 1},
    ],
)
def test_invalid(bad):
    with pytest.raises(PipelineError) as info:
        CombineConfig.from_dict(bad)
    assert info.value.code == "invalid-config"
