"""Duplicate resolution: pairs to groups to decisions, vectorised with numpy and scipy.

Input is a *keys* frame with one row per object, sorted by CRD_ID: ``CRD_ID, ra, dec, z,
source_index, z_flag_homogenized, type_homogenized`` and any other priority column, plus the
candidate pairs (positions into the frame) found by :func:`pipelines.combine.graph.find_pairs`.

Rules
-----
1. Objects of one input with identical positions (ra, dec rounded to 6 decimals) are pairs too.
2. Stars (``z_flag_homogenized == 6``) take no part: pairs touching a star are dropped from the
   groups, so a star neither competes nor links two other objects; stars get tie_result 0. A
   star's own ``compared_to`` still names every object within the radius (as the reference
   does); the others do not name the star.
3. Pairs form groups (connected components, :func:`scipy.sparse.csgraph.connected_components`).
4. In a group, each priority column in order keeps the members with the best (highest) value
   among those still in; a missing value loses to any real value.
5. If several survive, they are sorted by z; a survivor within ``delta_z_threshold`` of the
   previous one joins its cluster (single linkage); each cluster keeps its smallest CRD_ID
   (``tie_order="crd_id"``, the default) or the smallest reference id string
   ``CRD<prefix>_<row>`` (``tie_order="reference"``: ``CRD9_1000`` before ``CRD9_104``).
   Survivors without z never collapse.
6. One survivor -> tie_result 1; several -> 2 (hard tie); other members 0; no pair -> 1.

Outputs per object: ``tie_result`` (int8), ``group_id`` (int64: the smallest CRD_ID of the
group; an object without duplicates, a star included, is its own group) and ``compared_to``
(the CRD_IDs of the objects it was paired with, as integers in increasing order joined by
``", "``; null when none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pzcat import vocab

STAR = vocab.STAR
TIE_ORDERS = ("crd_id", "reference")
Z_EPSILON = 1e-12  # tolerance on delta_z comparisons (decimal redshifts are not exact in binary)


@dataclass
class Resolution:
    """Decisions for every object of the keys frame (same order).

    Attributes
    ----------
    tie_result : numpy.ndarray of int8
    group_id : numpy.ndarray of int64
    compared_to : pandas.Series of string
    stats : dict
        pairs, groups, objects in groups, groups decided by each priority column, by delta_z,
        hard-tie groups and rows, stars.
    """

    tie_result: np.ndarray
    group_id: np.ndarray
    compared_to: pd.Series
    stats: dict[str, int] = field(default_factory=dict)


def same_position_pairs(keys: pd.DataFrame) -> np.ndarray:
    """Pairs of objects of the same input whose positions agree to 6 decimals."""
    ra = np.round(keys["ra"].to_numpy(dtype=np.float64) * 1e6).astype(np.int64)
    dec = np.round(keys["dec"].to_numpy(dtype=np.float64) * 1e6).astype(np.int64)
    src = keys["source_index"].to_numpy(dtype=np.int64)
    if len(src) and src.max() < 128:
        # one sortable key: source (7 bits) | ra in micro-degrees (29 bits) | dec + 90 deg (28 bits)
        key = (
            (src.astype(np.uint64) << np.uint64(57))
            | (ra.astype(np.uint64) << np.uint64(28))
            | (dec + 90_000_000).astype(np.uint64)
        )
        order = np.argsort(key, kind="stable")
        key = key[order]
        same = key[1:] == key[:-1]
    else:
        order = np.lexsort((dec, ra, src))
        ra, dec, src = ra[order], dec[order], src[order]
        same = (ra[1:] == ra[:-1]) & (dec[1:] == dec[:-1]) & (src[1:] == src[:-1])
    if not same.any():
        return np.empty((0, 2), dtype=np.int64)
    run = np.cumsum(np.r_[True, ~same])  # run id of each sorted object
    in_multi = np.r_[same, False] | np.r_[False, same]
    members = pd.DataFrame({"g": run[in_multi], "pos": order[in_multi]})
    pairs = members.merge(members, on="g")
    pairs = pairs[pairs["pos_x"] < pairs["pos_y"]]
    return pairs[["pos_x", "pos_y"]].to_numpy(dtype=np.int64)


def priority_scores(keys: pd.DataFrame, column: str, type_priority: dict[str, int]) -> np.ndarray:
    """Higher-is-better score of a priority column; missing values are -inf."""
    if column == "type_homogenized":
        values = keys[column].map(type_priority)
    else:
        values = keys[column]
    out = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.where(np.isnan(out), -np.inf, out)


def reference_ids(
    crd: np.ndarray, source_index: np.ndarray, sources: list[tuple[str, int]]
) -> np.ndarray:
    """The reference's id strings ``CRD<prefix>_<k>`` of objects.

    ``prefix`` is the digits before the first ``_`` of the input's internal name (the product id
    for pzcat's ``<id>_<slug>``; the whole name before ``_`` when it has no digits) and ``k`` the
    1-based row in that input. ``sources`` gives each input's internal name and row count, in
    order (CRD_IDs are sequential across them).
    """
    firsts = np.cumsum([0] + [int(n) for _, n in sources])[:-1] + 1
    prefixes = []
    for name, _ in sources:
        head = name.split("_", 1)[0]
        digits = "".join(ch for ch in head if ch.isdigit())
        prefixes.append(digits or head)
    src = np.asarray(source_index, dtype=np.int64)
    rows = np.asarray(crd, dtype=np.int64) - firsts[src] + vocab.ROW_BASE
    return np.array([f"CRD{prefixes[s]}_{k}" for s, k in zip(src, rows, strict=True)], dtype=object)


def _compared_to(
    pairs: np.ndarray, crd: np.ndarray, n: int, one_way: np.ndarray | None = None
) -> pd.Series:
    """For each object, the CRD_IDs of its pairs, increasing, joined by ", " (vectorised).

    ``pairs`` count for both of their objects; ``one_way`` pairs ``(a, b)`` only for ``a`` (a
    star names its neighbours, they do not name it). Objects are handled by number of partners:
    the partners of all objects with ``d`` partners form a (count, d) matrix whose columns are
    concatenated.
    """
    out = np.full(n, None, dtype=object)
    one_way = np.empty((0, 2), dtype=np.int64) if one_way is None else one_way
    if len(pairs) or len(one_way):
        obj = np.concatenate([pairs[:, 0], pairs[:, 1], one_way[:, 0]])
        other = crd[np.concatenate([pairs[:, 1], pairs[:, 0], one_way[:, 1]])]
        order = np.lexsort((other, obj))
        obj, text = obj[order], other[order].astype(str).astype(object)
        starts = np.flatnonzero(np.r_[True, obj[1:] != obj[:-1]])
        counts = np.diff(np.r_[starts, len(obj)])
        for d in np.unique(counts):
            first = starts[counts == d]
            joined = text[first]
            for k in range(1, int(d)):
                joined = joined + ", " + text[first + k]
            out[obj[first]] = joined
    return pd.Series(pd.array(out, dtype="string"))


def resolve(
    keys: pd.DataFrame,
    pairs: np.ndarray,
    priority: list[str],
    type_priority: dict[str, int],
    delta_z: float,
    tie_order: str = "crd_id",
    sources: list[tuple[str, int]] | None = None,
) -> Resolution:
    """Resolve duplicates.

    Parameters
    ----------
    keys : pandas.DataFrame
        One row per object, sorted by CRD_ID (see module doc).
    pairs : numpy.ndarray
        Candidate pairs (positions into ``keys``), shape (m, 2).
    priority : list of str
        Tiebreaking columns in order.
    type_priority : dict
        Rank of each homogenized type.
    delta_z : float
    tie_order : {"crd_id", "reference"}
        Which survivor a delta_z cluster keeps: the smallest CRD_ID, or the smallest reference id
        string (needs ``sources`` and ``source_index`` in ``keys``).
    sources : list of (str, int), optional
        Internal name and row count of each input, in order (for ``tie_order="reference"``).

    Returns
    -------
    Resolution
    """
    n = len(keys)
    crd = keys["CRD_ID"].to_numpy(dtype=np.int64)
    star = keys["z_flag_homogenized"].to_numpy() == STAR
    pairs = np.concatenate(
        [np.asarray(pairs, dtype=np.int64).reshape(-1, 2), same_position_pairs(keys)]
    )
    star_pairs = np.empty((0, 2), dtype=np.int64)
    if len(pairs):
        pairs = np.unique(np.sort(pairs, axis=1), axis=0)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        touch = star[pairs[:, 0]] | star[pairs[:, 1]]
        # a star names its neighbours in compared_to (one way), nothing else
        starry = pairs[touch]
        star_pairs = np.concatenate(
            [starry[star[starry[:, 0]]], starry[star[starry[:, 1]]][:, ::-1]]
        )
        pairs = pairs[~touch]
    stats: dict[str, int] = {"pairs": int(len(pairs)), "stars": int(star.sum())}

    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label)
    in_group = sizes[label] > 1
    group_id = crd.copy()
    tie = np.where(star, 0, 1).astype(np.int8)

    members = np.flatnonzero(in_group)
    stats["groups"] = int(len(np.unique(label[members])))
    stats["objects_in_groups"] = int(len(members))
    if len(members):
        lab = label[members]
        # group_id: smallest CRD_ID of the group
        min_crd = pd.Series(crd[members]).groupby(lab).transform("min").to_numpy()
        group_id[members] = min_crd
        alive = np.ones(len(members), dtype=bool)
        decided = np.zeros(len(members), dtype=bool)  # group already down to one survivor
        for column in priority:
            score = priority_scores(keys.iloc[members], column, type_priority)
            score_alive = np.where(alive, score, -np.inf)
            best = pd.Series(score_alive).groupby(lab).transform("max").to_numpy()
            before = pd.Series(alive).groupby(lab).transform("sum").to_numpy()
            alive &= score_alive == best
            after = pd.Series(alive).groupby(lab).transform("sum").to_numpy()
            newly = (before > 1) & (after == 1) & ~decided
            stats[f"groups_decided_by_{column}"] = int(len(np.unique(lab[newly])))
            decided |= after == 1
        # delta_z clustering among the survivors of each group
        surv = np.flatnonzero(alive)
        z = keys["z"].to_numpy(dtype=np.float64)[members[surv]]
        sl = lab[surv]
        order = np.lexsort((crd[members[surv]], np.where(np.isnan(z), np.inf, z), sl))
        s_idx, s_z, s_lab = surv[order], z[order], sl[order]
        prev_same = np.r_[False, s_lab[1:] == s_lab[:-1]]
        gap = np.r_[np.inf, np.diff(s_z)]
        joins = (
            prev_same
            & ~np.isnan(s_z)
            & np.r_[False, ~np.isnan(s_z[:-1])]
            & (gap <= delta_z + Z_EPSILON)
        )
        cluster = np.cumsum(~joins)
        s_crd = crd[members[s_idx]]
        if tie_order == "reference" and len(s_idx):
            if sources is None:
                raise ValueError("tie_order 'reference' needs the inputs' names and row counts")
            names = reference_ids(s_crd, keys["source_index"].to_numpy()[members[s_idx]], sources)
            _, s_rank = np.unique(names.astype(str), return_inverse=True)
        else:
            s_rank = s_crd
        keep_min = pd.Series(s_rank).groupby(cluster).transform("min").to_numpy() == s_rank
        before = pd.Series(np.ones(len(s_idx))).groupby(s_lab).transform("sum").to_numpy()
        alive[s_idx[~keep_min]] = False
        after_counts = pd.Series(alive).groupby(lab).transform("sum").to_numpy()
        stats["groups_decided_by_delta_z"] = int(
            len(np.unique(s_lab[(before > 1) & (after_counts[s_idx] == 1)]))
        )
        result = np.where(alive, np.where(after_counts > 1, 2, 1), 0).astype(np.int8)
        tie[members] = result
        stats["hard_tie_groups"] = int(len(np.unique(lab[alive & (after_counts > 1)])))
        stats["hard_tie_rows"] = int((result == 2).sum())
        stats["eliminated_rows"] = int((result == 0).sum())
    else:
        for column in priority:
            stats[f"groups_decided_by_{column}"] = 0
        stats.update(
            groups_decided_by_delta_z=0, hard_tie_groups=0, hard_tie_rows=0, eliminated_rows=0
        )
    return Resolution(
        tie_result=tie,
        group_id=group_id,
        compared_to=_compared_to(pairs, crd, n, star_pairs),
        stats=stats,
    )
