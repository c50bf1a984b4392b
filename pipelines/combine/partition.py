"""Duplicates of one HEALPix partition, and of the groups that cross partition borders: pure functions.

A partition is a range of HEALPix order-7 pixels (:data:`pipelines.combine.graph.PIXEL_ORDER`).
Its *core* is the objects of those pixels, its *margin* the objects of other partitions within
the search radius of its border. :func:`resolve_partition` finds, with the partition's core and
margin only, every candidate pair touching the core and applies the ``n_neighbors`` rule as
:func:`pipelines.combine.graph.limit_neighbors` does over the whole sky: a pair is kept when one
of its objects has the other among its ``n_neighbors - 1`` nearest (ties by CRD_ID). A core
object's candidates are all within its partition's core and margin, so that direction is decided
here; the direction from a margin object is decided by the margin object's own partition.

Links (kept core pairs, every candidate pair with a margin object, same-position pairs) form
components. A component without a margin object is a complete group of the whole sky: it is
resolved here with :func:`pipelines.combine.dedup.resolve`, which sees exactly the objects and
pairs it would see in a single whole-sky call. Components with a margin object *cross the
border*: their core objects' keys and pairs are returned as a :class:`Border` and every
partition's borders are resolved together, once, by :func:`resolve_borders`. The union of the
border objects of all partitions is closed under pairs, so that call is exact too; decisions do
not depend on the partitioning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pipelines.combine import dedup

DECISION_COLUMNS = ("tie_result", "group_id", "compared_to")


@dataclass
class Border:
    """What a partition knows of its groups that cross its border (compact arrays).

    Attributes
    ----------
    keys : pandas.DataFrame
        Keys of the partition's core objects in such groups.
    pairs : numpy.ndarray
        Kept pairs between two of those objects (CRD_IDs, shape (m, 2)).
    cross : numpy.ndarray
        Candidate pairs (core CRD_ID, margin CRD_ID, 1 when the core object keeps the margin
        one among its nearest else 0), shape (k, 3).
    """

    keys: pd.DataFrame
    pairs: np.ndarray
    cross: np.ndarray


def empty_decisions() -> pd.DataFrame:
    """A decisions frame without rows."""
    return pd.DataFrame(
        {
            "CRD_ID": np.empty(0, np.int64),
            "tie_result": np.empty(0, np.int8),
            "group_id": np.empty(0, np.int64),
            "compared_to": pd.array([], dtype="string"),
        }
    )


def _decisions(keys: pd.DataFrame, pairs: np.ndarray, settings: dict) -> tuple[pd.DataFrame, dict]:
    if not len(keys):
        return empty_decisions(), {}
    res = dedup.resolve(
        keys.reset_index(drop=True),
        pairs,
        settings["priority"],
        settings["type_priority"],
        settings["delta_z"],
        tie_order=settings.get("tie_order", "crd_id"),
        sources=settings.get("sources"),
    )
    frame = pd.DataFrame(
        {
            "CRD_ID": keys["CRD_ID"].to_numpy(np.int64),
            "tie_result": res.tie_result,
            "group_id": res.group_id,
            "compared_to": res.compared_to.array,
        }
    )
    return frame, dict(res.stats)


def directed_keep(
    pairs: np.ndarray, dist: np.ndarray, crd: np.ndarray, n_core: int, n_neighbors: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each pair (i, j), whether i keeps j and whether j keeps i, decided for core objects.

    An object keeps its ``n_neighbors - 1`` nearest others, ties broken by the other's CRD_ID
    (the order of :func:`pipelines.combine.graph.limit_neighbors`). Only directions from a core
    object (index ``< n_core``) are meaningful: a margin object's candidates are not all here.
    """
    m = len(pairs)
    obj = np.concatenate([pairs[:, 0], pairs[:, 1]])
    other = np.concatenate([pairs[:, 1], pairs[:, 0]])
    d = np.concatenate([dist, dist])
    order = np.lexsort((crd[other], d, obj))
    obj_sorted = obj[order]
    starts = np.flatnonzero(np.r_[True, obj_sorted[1:] != obj_sorted[:-1]])
    rank = np.arange(len(obj_sorted)) - np.repeat(starts, np.diff(np.r_[starts, len(obj_sorted)]))
    keep = np.zeros(2 * m, dtype=bool)
    keep[order] = rank < n_neighbors - 1
    keep &= obj < n_core
    return keep[:m], keep[m:]


def resolve_partition(
    core: pd.DataFrame,
    margin: pd.DataFrame,
    candidates: np.ndarray,
    dist: np.ndarray | None,
    settings: dict,
) -> tuple[pd.DataFrame, dict, Border]:
    """Decisions of a partition's own groups; what it knows of the groups crossing its border.

    Parameters
    ----------
    core, margin : pandas.DataFrame
        Keys (``CRD_ID, ra, dec, z, source_index, z_flag_homogenized, type_homogenized`` and the
        other priority columns), each sorted by CRD_ID; positions index ``core`` then ``margin``.
    candidates : numpy.ndarray
        Pairs of positions within the radius touching the core, i < j, unique, shape (m, 2).
    dist : numpy.ndarray or None
        Their chord distances; None when ``candidates`` are already the kept pairs (one
        partition searched by LSDB, which applies ``n_neighbors`` itself).
    settings : dict
        ``n_neighbors``, ``priority``, ``type_priority``, ``delta_z``.

    Returns
    -------
    (pandas.DataFrame, dict, Border)
        Decisions (``CRD_ID`` and the decision columns) of the core objects not in border
        groups, sorted by CRD_ID; the statistics of :func:`pipelines.combine.dedup.resolve` for
        them; the border.
    """
    n_core = len(core)
    both = (
        pd.concat([core, margin], ignore_index=True) if len(margin) else core.reset_index(drop=True)
    )
    crd = both["CRD_ID"].to_numpy(np.int64)
    n = len(both)
    candidates = np.asarray(candidates, dtype=np.int64).reshape(-1, 2)
    if dist is None:
        keep_ij = keep_ji = np.ones(len(candidates), dtype=bool)
    else:
        keep_ij, keep_ji = directed_keep(candidates, dist, crd, n_core, settings["n_neighbors"])
    core_core = (candidates[:, 0] < n_core) & (candidates[:, 1] < n_core)
    kept = candidates[core_core & (keep_ij | keep_ji)]
    cross = candidates[~core_core]
    same = dedup.same_position_pairs(both)
    if len(same):
        same = same[(same[:, 0] < n_core) | (same[:, 1] < n_core)]
    links = np.concatenate([kept, cross, same.reshape(-1, 2)])
    graph = coo_matrix(
        (np.ones(len(links), dtype=np.int8), (links[:, 0], links[:, 1])), shape=(n, n)
    )
    _, label = connected_components(graph, directed=False)
    with_margin = np.zeros(label.max() + 1 if n else 0, dtype=bool)
    with_margin[label[n_core:]] = True
    border = with_margin[label[:n_core]]
    # the partition's own groups (and single objects)
    own = np.flatnonzero(~border)
    local = np.full(n, -1, dtype=np.int64)
    local[own] = np.arange(len(own))
    own_pairs = local[kept]
    own_pairs = own_pairs[(own_pairs >= 0).all(axis=1)] if len(own_pairs) else own_pairs
    decisions, stats = _decisions(core.iloc[own], own_pairs, settings)
    # the border: core objects of groups that reach the margin, their pairs, directed cross pairs
    in_border = np.flatnonzero(border)
    border_pairs = kept[border[kept[:, 0]]] if len(kept) else kept
    # cross pairs as (core, margin): i < j and core indices come first, so i is the core object
    cross_keep = (keep_ij | keep_ji)[~core_core] if dist is None else keep_ij[~core_core]
    out = Border(
        keys=core.iloc[in_border].reset_index(drop=True),
        pairs=crd[border_pairs].reshape(-1, 2),
        cross=np.stack([crd[cross[:, 0]], crd[cross[:, 1]], cross_keep.astype(np.int64)], axis=1)
        if len(cross)
        else np.empty((0, 3), np.int64),
    )
    return decisions, stats, out


def resolve_borders(borders: list[Border], settings: dict) -> tuple[pd.DataFrame, dict]:
    """Decisions of the groups that cross partition borders, from every partition's border.

    A pair between two partitions is kept when either side keeps it (each side decided the
    direction from its own core object).
    """
    keys = [b.keys for b in borders if len(b.keys)]
    if not keys:
        return empty_decisions(), {}
    frame = (
        pd.concat(keys, ignore_index=True)
        .sort_values("CRD_ID", kind="stable")
        .reset_index(drop=True)
    )
    crd = frame["CRD_ID"].to_numpy(np.int64)
    pairs = [b.pairs for b in borders if len(b.pairs)]
    cross = [b.cross for b in borders if len(b.cross)]
    found = [np.concatenate(pairs)] if pairs else []
    if cross:
        c = np.concatenate(cross)
        lo, hi = np.minimum(c[:, 0], c[:, 1]), np.maximum(c[:, 0], c[:, 1])
        votes = (
            pd.DataFrame({"lo": lo, "hi": hi, "keep": c[:, 2]}).groupby(["lo", "hi"])["keep"].max()
        )
        votes = votes[votes > 0]
        found.append(
            np.stack(
                [
                    votes.index.get_level_values(0).to_numpy(np.int64),
                    votes.index.get_level_values(1).to_numpy(np.int64),
                ],
                axis=1,
            )
        )
    both = np.concatenate(found) if found else np.empty((0, 2), np.int64)
    positions = np.searchsorted(crd, both)
    return _decisions(frame, positions.reshape(-1, 2), settings)


def add_stats(total: dict, part: dict) -> dict:
    """Sum two statistics dicts of :func:`pipelines.combine.dedup.resolve`, key by key."""
    for key, value in part.items():
        total[key] = total.get(key, 0) + int(value)
    return total
