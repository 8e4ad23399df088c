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

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from trackcore.builders.dbscan_clustering import _as_tensor
from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.checks import check_count, check_hit_id, check_positive, check_values
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
        backend: neighbour-search backend (``"auto"``: see :func:`trackcore.neighbors.resolve_backend`).

    Returns:
        Disjoint tracks, track ``k`` seeded by the ``k``-th accepted seed (descending beta).

    Shapes:
        x: (N_hits, D); beta, hit_id: (N_hits,).

    Raises:
        ValueError: ``x`` not 2-D or not finite, ``beta`` of the wrong length or holding NaN,
            ``t_d <= 0``.
    """
    check_count("min_hits", min_hits)
    graph = condensation_graph(x, beta, t_beta=t_beta, t_d=t_d, max_num_neighbors=max_num_neighbors,
                               backend=backend)
    hit_ids = check_hit_id(hit_id, graph.num_hits)
    return TrackCandidates.from_labels(graph.labels(t_beta, t_d), hit_ids, min_hits=min_hits)


@dataclass(frozen=True)
class SeedNeighbors:
    """The seeds of condensation-point clustering and the hits around each (from one radius search).

    ``seed_k`` are the hits with ``beta > t_beta`` in descending ``beta`` (index order on
    ties); seed ``k``'s neighbours within ``t_d`` are ``neighbor_e[ptr_k[k]:ptr_k[k + 1]]`` at
    distances ``distance_e[...]``. Built at the smallest ``t_beta`` and largest ``t_d`` of a
    scan, :meth:`labels` clusters any larger ``t_beta`` / smaller ``t_d`` without searching again.

    Shapes:
        seed_k: (K,); beta_k: (K,); ptr_k: (K + 1,); neighbor_e, distance_e: (E,).
    """

    num_hits: int
    t_beta: float
    t_d: float
    seed_k: np.ndarray
    beta_k: np.ndarray
    ptr_k: np.ndarray
    neighbor_e: np.ndarray
    distance_e: np.ndarray

    def labels(self, t_beta: float, t_d: float) -> np.ndarray:
        """Track label of each hit (-1: unassigned) for ``t_beta >= self.t_beta``, ``t_d <= self.t_d``.

        Shapes:
            return: (num_hits,) int64.
        """
        if t_beta < self.t_beta or t_d > self.t_d:
            raise ValueError(f"labels at t_beta={t_beta}, t_d={t_d} need a search at t_beta <= {t_beta} and "
                             f"t_d >= {t_d} (this one: t_beta={self.t_beta}, t_d={self.t_d})")
        track_j = np.full(self.num_hits, -1, np.int64)
        n_tracks = 0
        n_seeds = int(np.count_nonzero(self.beta_k > t_beta))  # seeds are sorted by descending beta
        for k, seed in enumerate(self.seed_k[:n_seeds].tolist()):
            if track_j[seed] >= 0:
                continue
            lo, hi = self.ptr_k[k], self.ptr_k[k + 1]
            hits = self.neighbor_e[lo:hi][self.distance_e[lo:hi] <= t_d]
            track_j[hits[track_j[hits] < 0]] = n_tracks
            track_j[seed] = n_tracks
            n_tracks += 1
        return track_j


def condensation_graph(
    x: Any,
    beta: Any,
    *,
    t_beta: float,
    t_d: float,
    max_num_neighbors: int | None = None,
    backend: str = "auto",
) -> SeedNeighbors:
    """One radius search around every hit of ``beta > t_beta`` (see :class:`SeedNeighbors`).

    Shapes:
        x: (N_hits, D); beta: (N_hits,).
    """
    points = _as_tensor(x)
    if points.dim() != 2:
        raise ValueError(f"Expected 'x' of shape (N, D) (got {points.dim()} dimensions)")
    n = len(points)
    beta_j = check_values("beta", beta, n)
    t_d = check_positive("t_d", t_d)
    seed_k = np.flatnonzero(beta_j > t_beta)
    seed_k = seed_k[np.lexsort((seed_k, -beta_j[seed_k]))]
    if not seed_k.size:
        empty = np.zeros(0, np.int64)
        return SeedNeighbors(n, t_beta, t_d, seed_k, beta_j[seed_k], np.zeros(1, np.int64), empty,
                             np.zeros(0, np.float32))
    query = points[torch.from_numpy(seed_k).to(points.device)]
    graph = radius_graph(points, t_d, query=query, max_num_neighbors=max_num_neighbors, backend=backend)
    neighbor_e, seed_e = as_numpy(graph.edge_index)
    order = np.argsort(seed_e, kind="stable")
    ptr_k = np.concatenate([[0], np.cumsum(np.bincount(seed_e, minlength=seed_k.size))])
    return SeedNeighbors(n, t_beta, t_d, seed_k, beta_j[seed_k], ptr_k, neighbor_e[order],
                         as_numpy(graph.distance)[order])
