"""The ITk "connected components and walk" track builder (Exa.TrkX / acorn ITk pipeline).

Plain connected components merge two tracks as soon as one fake edge joins them. The ITk
pipeline therefore keeps the easy part of CC and walks through the hard part:

1. **Orient.** Every edge points outward, from the hit with the lower ``direction`` key
   (e.g. ``r`` or the distance from the origin) to the higher one; ties are broken by hit
   index, so the directed graph is acyclic. Without ``direction`` the edges are taken as
   given (and must not form a directed cycle). Edges listed in both directions collapse to
   one with the higher score; self loops are dropped.
2. **Low cut.** Edges with ``score <= cc_cut`` are removed.
3. **Simple paths.** Every weakly connected component in which each hit has at most one
   incoming and one outgoing edge is a chain of hits and becomes a track as it is.
4. **Walk** on the remaining (branching) components, in rounds. In each round:

   - the *sources* are the live hits with no incoming kept edge from a live hit;
   - from each hit the walk may follow its best outgoing edge (highest score, among edges to
     live hits) when that score is ``> walk_min``, and also every other outgoing edge scoring
     ``> walk_max`` (a branch to explore);
   - each source takes the longest path through these edges (most hits; among equally long
     continuations the higher-scoring edge wins);
   - a source whose path is shorter than ``min_hits`` is dropped (its hit stays unassigned
     and is no longer live, so its successors can become sources);
   - paths are accepted longest first; a path that shares a hit with a better path of the
     same round waits for the next round, where it is recomputed without the used hits;
   - hits of accepted paths are used and no longer live.

   Rounds repeat until no live hit is left. The acorn implementation walks one start hit at
   a time in topological order with a recursive search over all branches (exponential in the
   number of branches above ``walk_max``); here each round is a vectorised longest-path
   dynamic programme over the allowed edges, and simultaneous paths are resolved longest first
   rather than in topological order.

Hits are never shared between tracks; hits in no accepted track are unassigned.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components as _scipy_components

from trackcore.builders.components import _labels
from trackcore.candidates import TrackCandidates
from trackcore.checks import check_count, check_edge_index, check_hit_id, check_values


def _orient(
    src: np.ndarray, dst: np.ndarray, score: np.ndarray, num_nodes: int, direction: Any | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges from lower to higher key, without self loops or duplicates (max score kept)."""
    if direction is not None:
        key = check_values("direction", direction, num_nodes)
        rank = np.empty(num_nodes, np.int64)
        rank[np.lexsort((np.arange(num_nodes), key))] = np.arange(num_nodes)
        flip = rank[src] > rank[dst]
        src, dst = np.where(flip, dst, src), np.where(flip, src, dst)
    keep = src != dst
    src, dst, score = src[keep], dst[keep], score[keep]
    code = src * num_nodes + dst
    order = np.lexsort((-score, code))
    first = np.ones(order.size, bool)
    first[1:] = code[order][1:] != code[order][:-1]
    order = order[first]
    return src[order], dst[order], score[order]


def _check_acyclic(src: np.ndarray, dst: np.ndarray, num_nodes: int) -> None:
    if not src.size:
        return
    adjacency = sp.csr_matrix((np.ones(src.size, np.int8), (src, dst)), shape=(num_nodes, num_nodes))
    n_strong, _ = _scipy_components(adjacency, directed=True, connection="strong")
    if n_strong != num_nodes:
        raise ValueError(
            f"The directed graph has {num_nodes - n_strong} hit(s) on directed cycles; "
            "pass 'direction' (e.g. the hit radius) to orient the edges outward"
        )


def _first_per_group(group_sorted: np.ndarray) -> np.ndarray:
    first = np.ones(group_sorted.size, bool)
    first[1:] = group_sorted[1:] != group_sorted[:-1]
    return first


def _walk(
    src: np.ndarray,
    dst: np.ndarray,
    score: np.ndarray,
    alive: np.ndarray,
    *,
    walk_min: float,
    walk_max: float,
    min_hits: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Hit and track (``0..T-1``) of each membership of the walked tracks; ``alive`` is consumed."""
    num_nodes = alive.size
    hits, tracks = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    n_tracks = 0
    while alive.any():
        live_e = alive[src] & alive[dst]
        src, dst, score = src[live_e], dst[live_e], score[live_e]
        has_in = np.zeros(num_nodes, bool)
        has_in[dst] = True
        sources = np.flatnonzero(alive & ~has_in)

        # Allowed steps: the best live outgoing edge above walk_min, plus every edge above walk_max.
        order = np.lexsort((-score, src))
        is_best = np.zeros(src.size, bool)
        is_best[order[_first_per_group(src[order])]] = True
        allowed = (is_best & (score > walk_min)) | (score > walk_max)
        a_src, a_dst, a_score = src[allowed], dst[allowed], score[allowed]
        order = np.argsort(a_src, kind="stable")
        a_src, a_dst, a_score = a_src[order], a_dst[order], a_score[order]
        starts = np.flatnonzero(_first_per_group(a_src))

        # Longest path (in hits) from every hit over the allowed DAG: relax until stable.
        length = np.ones(num_nodes, np.int64)
        while a_src.size:
            best = np.maximum.reduceat(length[a_dst] + 1, starts)
            if np.array_equal(length[a_src[starts]], best):
                break
            length[a_src[starts]] = best
        nxt = np.full(num_nodes, -1, np.int64)
        if a_src.size:
            order = np.lexsort((-a_score, -length[a_dst], a_src))
            first = order[_first_per_group(a_src[order])]
            nxt[a_src[first]] = a_dst[first]

        # Trace every source's path at once.
        path_p, node_p = [], []
        cur, path = sources, np.arange(sources.size)
        while cur.size:
            path_p.append(path)
            node_p.append(cur)
            cur = nxt[cur]
            path, cur = path[cur >= 0], cur[cur >= 0]
        path_m, node_m = np.concatenate(path_p), np.concatenate(node_p)
        size_p = length[sources]
        short_p = size_p < min_hits
        alive[sources[short_p]] = False

        # Longest paths first; a path is accepted when it wins every one of its hits.
        rank_p = np.empty(sources.size, np.int64)
        rank_p[np.lexsort((sources, -size_p))] = np.arange(sources.size)
        member = ~short_p[path_m]
        path_m, node_m = path_m[member], node_m[member]
        winner = np.full(num_nodes, sources.size, np.int64)
        np.minimum.at(winner, node_m, rank_p[path_m])
        lost_p = np.bincount(path_m[winner[node_m] != rank_p[path_m]], minlength=sources.size) > 0
        accepted_p = ~short_p & ~lost_p
        accepted_m = accepted_p[path_m]
        order = np.argsort(rank_p[path_m[accepted_m]], kind="stable")  # memberships are in step order
        hits.append(node_m[accepted_m][order])
        _, track_m = np.unique(rank_p[path_m[accepted_m]][order], return_inverse=True)
        tracks.append(track_m + n_tracks)
        n_tracks += int(accepted_p.sum())
        alive[node_m[accepted_m]] = False
    return np.concatenate(hits), np.concatenate(tracks)


def cc_and_walk(
    edge_index: Any,
    scores: Any,
    num_nodes: int,
    *,
    direction: Any | None = None,
    cc_cut: float = 0.01,
    walk_min: float = 0.1,
    walk_max: float = 0.6,
    min_hits: int = 3,
    hit_id: Any | None = None,
) -> TrackCandidates:
    """Tracks from a scored hit graph: simple-path components, then a walk through the rest.

    See the module docstring for the algorithm (ITk "CC and walk", acorn defaults).

    Args:
        edge_index: hit graph on hit indices ``0..N-1`` (one or both directions per edge).
        scores: edge-classifier score of each edge.
        num_nodes: number of hits ``N``.
        direction: per-hit ordering key; edges are oriented from lower to higher key. When
            None, edges are used as directed in ``edge_index``.
        cc_cut: low cut: edges with ``score <= cc_cut`` are removed before anything else.
        walk_min: the walk follows a hit's best outgoing edge only when it scores ``> walk_min``.
        walk_max: outgoing edges scoring ``> walk_max`` are all explored as branches.
        min_hits: tracks (simple paths or walks) with fewer hits are dropped; a single hit is
            never a track.
        hit_id: TrackML hit id of each hit; the index when None.

    Returns:
        Disjoint tracks with ids ``0..T-1``: simple-path components first, then walked tracks.

    Shapes:
        edge_index: (2, N_edges); scores: (N_edges,); direction, hit_id: (N,).

    Raises:
        ValueError: mismatched lengths, NaN scores or keys, out-of-range indices,
            ``walk_min > walk_max``, or a directed cycle when ``direction`` is None.
    """
    src, dst = check_edge_index(edge_index, num_nodes)
    score = check_values("scores", scores, src.size)
    hit_ids = check_hit_id(hit_id, num_nodes)
    min_hits = max(check_count("min_hits", min_hits), 2)
    if walk_min > walk_max:
        raise ValueError(f"Expected walk_min <= walk_max (got {walk_min} > {walk_max})")
    # the cut first: a pair's best score passes it exactly when one of its copies does (the same edges as
    # cutting after _orient's deduplication, without sorting the edges below the cut)
    keep = score > cc_cut
    src, dst, score = _orient(src[keep], dst[keep], score[keep], num_nodes, direction)
    if direction is None:
        _check_acyclic(src, dst, num_nodes)
    if num_nodes == 0 or not src.size:
        return TrackCandidates.empty()

    label_j = _labels(src, dst, num_nodes)
    n_comp = int(label_j.max()) + 1
    size_c = np.bincount(label_j, minlength=n_comp)
    edges_c = np.bincount(label_j[src], minlength=n_comp)
    branching_j = (np.bincount(src, minlength=num_nodes) > 1) | (np.bincount(dst, minlength=num_nodes) > 1)
    branching_c = (np.bincount(label_j, weights=branching_j, minlength=n_comp) > 0) | (edges_c != size_c - 1)
    path_j = ~branching_c[label_j] & (size_c[label_j] >= min_hits)
    walk_j = branching_c[label_j] & (size_c[label_j] >= 2)

    path_hits = np.flatnonzero(path_j)
    _, path_track = np.unique(label_j[path_hits], return_inverse=True)
    n_path_tracks = int(path_track.max()) + 1 if path_track.size else 0

    walk_hits, walk_track = _walk(src, dst, score, walk_j, walk_min=walk_min, walk_max=walk_max, min_hits=min_hits)
    return TrackCandidates.from_pairs(
        np.concatenate([path_hits, walk_hits]), np.concatenate([path_track, walk_track + n_path_tracks]), hit_ids
    )
