"""Condensation-point clustering, the inference of object condensation (Kieseler 2020, arXiv:2002.03605).

Each object is represented by its *condensation point*, the hit with the largest ``beta``.
Inference walks the hits with ``beta > t_beta`` in descending ``beta``: a hit already
assigned to an earlier track is skipped; otherwise it seeds a new track that takes every
still-unassigned hit within Euclidean distance ``t_d`` (``d <= t_d``) in the clustering
space. Hits never reached stay unassigned (noise).

All candidate seeds are searched at once with one radius query
(:func:`trackcore.neighbors.radius_graph` with ``query=`` the seeds); the ordered pass over
seeds then only reads precomputed neighbour lists.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from trackcore.build._checks import check_count, check_hit_id, check_positive, check_values, on_cpu
from trackcore.build.candidates import TrackCandidates, as_numpy
from trackcore.build.dbscan_clustering import _as_tensor
from trackcore.neighbors import radius_graph


def condensation_clustering(
    x: Any,
    beta: Any,
    *,
    t_beta: float = 0.5,
    t_d: float = 0.5,
    hit_id: Any | None = None,
    min_hits: int = 1,
    max_num_neighbors: int | None = None,
    backend: str = "auto",
) -> TrackCandidates:
    """Tracks from condensation points: highest-``beta`` seeds take the free hits around them.

    Args:
        x: clustering coordinates (numpy array or torch tensor on any device).
        beta: condensation strength of each hit, in (0, 1).
        t_beta: hits with ``beta > t_beta`` are seed candidates.
        t_d: radius (Euclidean, inclusive) within which a seed takes unassigned hits.
        hit_id: TrackML hit id of each hit; the index when None.
        min_hits: tracks with fewer hits are dropped (their hits become unassigned; they are
            not offered to later seeds).
        max_num_neighbors: cap on the hits a seed can take (its nearest); None for no cap.
        backend: neighbour-search backend; ``"auto"`` is ``"kdtree"`` on CPU.

    Returns:
        Disjoint tracks, track ``k`` seeded by the ``k``-th accepted seed (descending beta).

    Shapes:
        x: (N_hits, D); beta, hit_id: (N_hits,).

    Raises:
        ValueError: ``x`` not 2-D or not finite, ``beta`` of the wrong length or holding NaN,
            ``t_d <= 0``.
    """
    points = _as_tensor(x)
    if points.dim() != 2:
        raise ValueError(f"Expected 'x' of shape (N, D) (got {points.dim()} dimensions)")
    n = len(points)
    beta_j = check_values("beta", beta, n)
    hit_ids = check_hit_id(hit_id, n)
    t_d = check_positive("t_d", t_d)
    check_count("min_hits", min_hits)

    seed_k = np.flatnonzero(beta_j > t_beta)
    if not seed_k.size:
        return TrackCandidates.empty()
    seed_k = seed_k[np.lexsort((seed_k, -beta_j[seed_k]))]
    if backend == "auto" and on_cpu(points):
        backend = "kdtree"
    query = points[torch.from_numpy(seed_k).to(points.device)]
    graph = radius_graph(points, t_d, query=query, max_num_neighbors=max_num_neighbors, backend=backend)
    neighbor_e, seed_e = as_numpy(graph.edge_index)
    order = np.argsort(seed_e, kind="stable")
    neighbor_e = neighbor_e[order]
    ptr_k = np.concatenate([[0], np.cumsum(np.bincount(seed_e, minlength=seed_k.size))])

    track_j = np.full(n, -1, np.int64)
    n_tracks = 0
    for k, seed in enumerate(seed_k.tolist()):
        if track_j[seed] >= 0:
            continue
        hits = neighbor_e[ptr_k[k] : ptr_k[k + 1]]
        track_j[hits[track_j[hits] < 0]] = n_tracks
        track_j[seed] = n_tracks
        n_tracks += 1
    return TrackCandidates.from_labels(track_j, hit_ids, min_hits=min_hits)
