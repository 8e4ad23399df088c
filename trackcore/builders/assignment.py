"""Soft-to-hard assignment of a weighted bipartite hit-to-candidate graph.

HGNN (Liu et al. 2023, arXiv:2303.01640) ends with a score for each (hit, super-node) edge:
a soft assignment in which a hit may belong to several candidates. Turning it into tracks
is a choice with consequences for efficiency, fakes and duplicates; the methods here are the
options to compare:

- ``"threshold"``: keep every edge with ``weight >= threshold`` (HGNN's choice, 0.7). A hit
  may join several tracks (shared hits) or none.
- ``"argmax"``: each hit joins its best candidate, if that weight is ``>= min_weight``.
- ``"topk"``: each hit joins its ``k`` best candidates with weight ``>= min_weight``.
- ``"matching"``: each hit joins at most one candidate **and** each candidate takes at most
  one hit per group (``group_j``, e.g. the detector layer), maximising the total weight: a
  track crosses a layer once, so two hits of one layer in one track means one of them is
  wrong. A maximum-weight bipartite matching of hits to (candidate, group) slots (a hit only
  reaches the slots of its own group, so the groups are independent problems), solved by
  scipy's LAPJVsp on each connected component, with dummy slots so a full matching exists and
  hits may stay unassigned. TrackML
  modules overlap, so a real particle can leave two hits in one layer ("double hits"); the
  group key is therefore the caller's choice (layer, module, or (layer, side) ...). Without
  ``group_j`` the matching has only the per-hit constraint and reduces to ``"argmax"``.
  Measured on a simulated ``small`` event with truth-like weights
  (``benchmarks/track_building.py``): grouping by layer lost DM efficiency (0.88) on
  end-cap particles with several hits per disk, grouping by module kept 0.99. Set
  ``min_weight`` (e.g. 0.5): with 0, any positive weight fills a candidate's empty slots
  and pollutes it.

Track ids are the candidate indices, so tracks can be traced back to super-nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from trackcore.arrays import unique_ints
from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.checks import check_count, check_hit_id, check_index, check_values
from trackcore.linear_assignment import max_weight_matching

AssignmentMethod = Literal["threshold", "argmax", "topk", "matching"]
_METHODS = ("threshold", "argmax", "topk", "matching")


@dataclass(frozen=True, kw_only=True)
class AssignmentOptions:
    """How to harden a soft hit-to-candidate assignment (a scannable experiment knob set).

    Args:
        method: ``"threshold"``, ``"argmax"``, ``"topk"`` or ``"matching"`` (module docstring).
        threshold: edge cut of ``"threshold"`` (kept when ``weight >= threshold``).
        min_weight: smallest weight ``"argmax"``, ``"topk"`` and ``"matching"`` accept.
        k: candidates per hit for ``"topk"``.
        min_hits: tracks with fewer hits are dropped.
    """

    method: AssignmentMethod = "threshold"
    threshold: float = 0.7
    min_weight: float = 0.0
    k: int = 2
    min_hits: int = 1

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(f"Unknown assignment method {self.method!r}; expected one of {_METHODS}")
        check_count("k", self.k, minimum=1)
        check_count("min_hits", self.min_hits)


@dataclass(frozen=True)
class _Edges:
    hit: np.ndarray
    candidate: np.ndarray
    weight: np.ndarray
    num_hits: int
    hit_id: np.ndarray | None


def _edges(hit_index_e: Any, candidate_index_e: Any, weight_e: Any, num_hits: int, hit_id: Any | None) -> _Edges:
    num_hits = check_count("num_hits", num_hits)
    hit = check_index("hit_index_e", hit_index_e, upper=num_hits)
    candidate = check_index("candidate_index_e", candidate_index_e, size=hit.size)
    weight = check_values("weight_e", weight_e, hit.size)
    if hit.size:
        n_unique = unique_ints(candidate * num_hits + hit).size
        if n_unique != hit.size:
            raise ValueError(f"{hit.size - n_unique} (hit, candidate) pair(s) are listed more than once")
    return _Edges(hit, candidate, weight, num_hits, check_hit_id(hit_id, num_hits))


def _tracks(edges: _Edges, keep_e: np.ndarray, min_hits: int) -> TrackCandidates:
    check_count("min_hits", min_hits)
    return TrackCandidates.from_pairs(edges.hit[keep_e], edges.candidate[keep_e], edges.hit_id).filter_small(min_hits)


def _ranked(edges: _Edges, min_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Edges with weight >= min_weight, sorted by hit then weight (desc) then candidate; rank within hit."""
    idx = np.flatnonzero(edges.weight >= min_weight)
    idx = idx[np.lexsort((edges.candidate[idx], -edges.weight[idx], edges.hit[idx]))]
    hit = edges.hit[idx]
    start = np.ones(idx.size, bool)
    start[1:] = hit[1:] != hit[:-1]
    first = np.flatnonzero(start)
    rank = np.arange(idx.size) - np.repeat(first, np.diff(np.append(first, idx.size)))
    return idx, rank


def threshold_assignment(
    hit_index_e: Any,
    candidate_index_e: Any,
    weight_e: Any,
    num_hits: int,
    *,
    threshold: float = 0.7,
    min_hits: int = 1,
    hit_id: Any | None = None,
) -> TrackCandidates:
    """Keep every hit-candidate edge with ``weight >= threshold`` (shared hits allowed).

    Shapes:
        hit_index_e, candidate_index_e, weight_e: (M,); hit_id: (N_hits,).
    """
    edges = _edges(hit_index_e, candidate_index_e, weight_e, num_hits, hit_id)
    return _tracks(edges, edges.weight >= threshold, min_hits)


def topk_assignment(
    hit_index_e: Any,
    candidate_index_e: Any,
    weight_e: Any,
    num_hits: int,
    *,
    k: int = 2,
    min_weight: float = 0.0,
    min_hits: int = 1,
    hit_id: Any | None = None,
) -> TrackCandidates:
    """Each hit joins its ``k`` best candidates among those with ``weight >= min_weight``.

    Ties in weight go to the lower candidate index.

    Shapes:
        hit_index_e, candidate_index_e, weight_e: (M,); hit_id: (N_hits,).
    """
    check_count("k", k, minimum=1)
    edges = _edges(hit_index_e, candidate_index_e, weight_e, num_hits, hit_id)
    idx, rank = _ranked(edges, min_weight)
    keep_e = np.zeros(edges.hit.size, bool)
    keep_e[idx[rank < k]] = True
    return _tracks(edges, keep_e, min_hits)


def argmax_assignment(
    hit_index_e: Any,
    candidate_index_e: Any,
    weight_e: Any,
    num_hits: int,
    *,
    min_weight: float = 0.0,
    min_hits: int = 1,
    hit_id: Any | None = None,
) -> TrackCandidates:
    """Each hit joins its best candidate, if that weight is ``>= min_weight`` (``topk`` with ``k=1``).

    Shapes:
        hit_index_e, candidate_index_e, weight_e: (M,); hit_id: (N_hits,).
    """
    return topk_assignment(
        hit_index_e, candidate_index_e, weight_e, num_hits, k=1, min_weight=min_weight, min_hits=min_hits, hit_id=hit_id
    )


def module_key(volume_id: Any, layer_id: Any, module_id: Any) -> Any:
    """One integer per detector module, the ``group_j`` of a per-module ``"matching"``.

    TrackML module ids repeat across volumes and layers, so the key combines all three
    (``(volume * 100 + layer) * 100_000 + module``; layer ids < 100, module ids < 100,000).
    Works on numpy arrays and int64 torch tensors alike.

    Shapes:
        volume_id, layer_id, module_id: (N_hits,) integers -> (N_hits,).
    """
    return (volume_id * 100 + layer_id) * 100_000 + module_id


def matching_assignment(
    hit_index_e: Any,
    candidate_index_e: Any,
    weight_e: Any,
    num_hits: int,
    *,
    group_j: Any | None = None,
    min_weight: float = 0.0,
    min_hits: int = 1,
    hit_id: Any | None = None,
) -> TrackCandidates:
    """Maximum-weight assignment with at most one candidate per hit and one hit per (candidate, group).

    Args:
        group_j: group key of each hit (e.g. detector layer id); within a group every
            candidate takes at most one hit. None reduces to :func:`argmax_assignment`.
        min_weight: edges below it are never used.

    Shapes:
        hit_index_e, candidate_index_e, weight_e: (M,); group_j, hit_id: (N_hits,).
    """
    if group_j is None:
        return argmax_assignment(
            hit_index_e, candidate_index_e, weight_e, num_hits, min_weight=min_weight, min_hits=min_hits, hit_id=hit_id
        )
    edges = _edges(hit_index_e, candidate_index_e, weight_e, num_hits, hit_id)
    group = as_numpy(group_j)
    if group.ndim != 1 or group.size != edges.num_hits:
        raise ValueError(f"Expected one 'group_j' value per hit: {edges.num_hits} (got shape {tuple(group.shape)})")
    _, group = np.unique(group, return_inverse=True)
    idx = np.flatnonzero(edges.weight >= min_weight)
    keep_e = np.zeros(edges.hit.size, bool)
    if idx.size:
        column = edges.candidate[idx] * (int(group.max()) + 1) + group[edges.hit[idx]]
        keep_e[idx[max_weight_matching(edges.hit[idx], column, edges.weight[idx])]] = True
    return _tracks(edges, keep_e, min_hits)


def assign(
    hit_index_e: Any,
    candidate_index_e: Any,
    weight_e: Any,
    num_hits: int,
    *,
    options: AssignmentOptions | None = None,
    group_j: Any | None = None,
    hit_id: Any | None = None,
) -> TrackCandidates:
    """Hard tracks from a soft hit-to-candidate assignment, the method chosen by ``options``.

    Args:
        hit_index_e: hit of each bipartite edge, in ``[0, num_hits)``.
        candidate_index_e: candidate (super-node) of each edge; becomes the track id.
        weight_e: assignment weight of each edge (typically in [0, 1]).
        num_hits: number of hits ``N``.
        options: method and knobs (default: ``AssignmentOptions()``, HGNN's threshold 0.7).
        group_j: group key per hit for ``"matching"`` (ignored by the other methods).
        hit_id: TrackML hit id of each hit; the index when None.

    Shapes:
        hit_index_e, candidate_index_e, weight_e: (M,); group_j, hit_id: (N_hits,).

    Raises:
        ValueError: mismatched lengths, NaN weights, out-of-range or negative indices,
            duplicated (hit, candidate) pairs.
    """
    o = AssignmentOptions() if options is None else options
    args = (hit_index_e, candidate_index_e, weight_e, num_hits)
    if o.method == "threshold":
        return threshold_assignment(*args, threshold=o.threshold, min_hits=o.min_hits, hit_id=hit_id)
    if o.method == "argmax":
        return argmax_assignment(*args, min_weight=o.min_weight, min_hits=o.min_hits, hit_id=hit_id)
    if o.method == "topk":
        return topk_assignment(*args, k=o.k, min_weight=o.min_weight, min_hits=o.min_hits, hit_id=hit_id)
    return matching_assignment(*args, group_j=group_j, min_weight=o.min_weight, min_hits=o.min_hits, hit_id=hit_id)
