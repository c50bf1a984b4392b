"""Neighbour search: partitioned search equals one search and LSDB's catalog crossmatch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.combine import graph
from tests.pipeline.samples import sample_inputs


def _synthetic(n=20000, seed=1):
    rng = np.random.default_rng(seed)
    # clustered around HEALPix order-7 pixel corners and edges, plus the poles and ra = 0
    ra = np.concatenate(
        [rng.uniform(0, 360, n), rng.uniform(-0.01, 0.01, 200) % 360, rng.uniform(0, 360, 200)]
    )
    dec = np.concatenate(
        [
            np.degrees(np.arcsin(rng.uniform(-1, 1, n))),
            rng.uniform(-5, 5, 200),
            rng.uniform(89.99, 90, 200),
        ]
    )
    m = len(ra) // 5
    pick = rng.integers(0, len(ra), m)
    ra2 = (ra[pick] + rng.normal(0, 0.2, m) / 3600 / np.cos(np.radians(dec[pick]))) % 360
    dec2 = np.clip(dec[pick] + rng.normal(0, 0.2, m) / 3600, -90, 90)
    return np.concatenate([ra, ra2]), np.concatenate([dec, dec2])


def _brute(ra, dec, radius):
    from scipy.spatial import cKDTree

    xyz = graph._xyz(ra, dec)
    return np.unique(
        np.sort(cKDTree(xyz).query_pairs(graph._chord(radius), output_type="ndarray"), axis=1),
        axis=0,
    )


@pytest.mark.parametrize("partition_rows", [10**9, 5000, 700])
def test_partitioned_equals_one_search(partition_rows):
    ra, dec = _synthetic()
    pairs, n_parts = graph.find_pairs(ra, dec, 0.5, 1000, partition_rows)
    assert np.array_equal(pairs, _brute(ra, dec, 0.5))
    assert n_parts >= (1 if partition_rows > len(ra) else 2)


def test_n_neighbors_limits_like_lsdb():
    ra = np.array([10.0] * 5)
    dec = np.array([0.0, 0.1, 0.2, 0.3, 0.4]) / 3600
    pairs, _ = graph.find_pairs(ra, dec, 0.5, 2, 10)
    # each object keeps its nearest other: (0,1), (1,2) or (1,0), (2,1)/(2,3) ties by position
    assert pairs.tolist() == [[0, 1], [1, 2], [2, 3], [3, 4]]


@pytest.mark.slow
def test_lsdb_catalog_crossmatch_gives_the_same_pairs():
    frames = [
        pd.read_parquet(i.path, columns=[i.columns["ra"], i.columns["dec"]])
        for i in sample_inputs()
    ]
    ra = np.concatenate([f.iloc[:, 0].to_numpy(float) for f in frames])
    dec = np.concatenate([f.iloc[:, 1].to_numpy(float) for f in frames])
    ours, _ = graph.find_pairs(ra, dec, 0.5, 10, 3000)
    theirs, _ = graph.find_pairs(ra, dec, 0.5, 10, 3000, method="lsdb-catalog")
    assert len(ours) > 40
    assert np.array_equal(ours, theirs)
