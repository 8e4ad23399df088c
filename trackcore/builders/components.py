"""Connected components of a (scored) hit graph as track candidates.

The baseline Exa.TrkX track builder: cut the edge-classifier scores, then every connected
component of the surviving graph (edge direction ignored) is one track. Hits left without a
kept edge are unassigned (a single hit is not a track).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components as _scipy_components

from trackcore.candidates import TrackCandidates
from trackcore.checks import check_count, check_edge_index, check_hit_id, check_values


def _labels(src: np.ndarray, dst: np.ndarray, num_nodes: int) -> np.ndarray:
    if num_nodes == 0:
        return np.zeros(0, np.int64)
    adjacency = sp.coo_matrix((np.ones(src.size, np.int8), (src, dst)), shape=(num_nodes, num_nodes)).tocsr()
    _, labels = _scipy_components(adjacency, directed=False)
    return labels.astype(np.int64, copy=False)


def component_labels(edge_index: Any, num_nodes: int) -> np.ndarray:
    """Connected-component label of every node, edges taken as undirected.

    Args:
        edge_index: edges (any orientation; duplicates and self loops are harmless).
        num_nodes: number of nodes ``N``; nodes without edges get a component of their own.

    Returns:
        Labels ``0..C-1`` (scipy's order: by smallest node index of each component).

    Shapes:
        edge_index: (2, N_edges); returns (N,) int64.
    """
    src, dst = check_edge_index(edge_index, num_nodes)
    return _labels(src, dst, num_nodes)


def connected_components(
    edge_index: Any,
    num_nodes: int,
    *,
    scores: Any | None = None,
    threshold: float = 0.5,
    hit_id: Any | None = None,
    min_hits: int = 1,
) -> TrackCandidates:
    """Tracks = connected components of the edges scoring above ``threshold``.

    Args:
        edge_index: hit graph on hit indices ``0..N-1``.
        num_nodes: number of hits ``N``.
        scores: edge scores; when given, only edges with ``score > threshold`` are kept
            (all edges are kept when None).
        threshold: score cut (strict).
        hit_id: TrackML hit id of each hit; the index when None.
        min_hits: tracks with fewer hits are dropped. Components of one hit are never tracks.

    Returns:
        One track per kept component, track ids ``0..T-1``.

    Shapes:
        edge_index: (2, N_edges); scores: (N_edges,); hit_id: (N,).

    Raises:
        ValueError: out-of-range node indices, scores of the wrong length or holding NaN,
            hit ids of the wrong length.
    """
    src, dst = check_edge_index(edge_index, num_nodes)
    hit_ids = check_hit_id(hit_id, num_nodes)
    check_count("min_hits", min_hits)
    if scores is not None:
        keep_e = check_values("scores", scores, src.size) > threshold
        src, dst = src[keep_e], dst[keep_e]
    label_j = _labels(src, dst, num_nodes)
    if num_nodes == 0:
        return TrackCandidates.empty()
    size_c = np.bincount(label_j)
    label_j = np.where(size_c[label_j] >= 2, label_j, -1)
    return TrackCandidates.from_labels(label_j, hit_ids, min_hits=min_hits).relabel()
