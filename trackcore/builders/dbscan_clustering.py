"""Exact DBSCAN (Ester et al. 1996) on a radius graph from :mod:`trackcore.neighbors`.

The clustering used after metric learning, object condensation and EggNet: a hit is a *core*
point when at least ``min_samples`` hits (itself included, scikit-learn's convention) lie
within Euclidean distance ``eps`` (``d <= eps``); clusters are the connected components of
core points joined by edges ``<= eps``; a non-core hit within ``eps`` of a core point is a
*border* point and joins the cluster of its nearest core neighbour (ties: lowest index), so
the result does not depend on the visiting order, unlike scikit-learn's, which gives a border
point shared by two clusters to whichever cluster reaches it first. Everything else is noise.

The neighbour search is the only expensive step and it is done once: the clustering is a
function of the radius graph, so :meth:`trackcore.builders.DBSCANBuilder.build_grid` reuses one graph built at
the largest ``eps`` for every ``(eps, min_samples)`` setting. The backend is the neighbour module's
``"auto"`` choice (:func:`trackcore.neighbors.resolve_backend`): on the CPU the KD-tree in up to 16
dimensions, the exact cell search for large point sets in more.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from trackcore.builders.components import _labels
from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.checks import check_count, check_hit_id, check_points, check_positive
from trackcore.neighbors import NeighborGraph, radius_graph


def _as_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach()
    return torch.from_numpy(check_points("x", x))


MAX_EDGES = 300_000_000
"""The most edges an uncapped DBSCAN radius graph may hold (~20 bytes each, and copies while it is built)."""
_SAMPLE = 128  # points whose neighbours are counted: a (128, N) distance block, small beside the DBSCAN itself


def estimated_edges(x: torch.Tensor, eps: float, *, sample: int = _SAMPLE, seed: int = 0) -> float:
    """The number of ordered pairs within ``eps`` (self pairs excluded), estimated from the neighbour counts of
    ``sample`` points drawn at random (all points when fewer): exact then, unbiased otherwise.

    Shapes:
        x: (N, D) -> a number.
    """
    n = x.size(0)
    if n < 2:
        return 0.0
    generator = torch.Generator().manual_seed(seed)
    pick = torch.randperm(n, generator=generator)[:sample] if n > sample else torch.arange(n)
    pick = pick.to(x.device)
    within = (torch.cdist(x[pick].float(), x.float()) <= eps).sum(dim=1) - 1  # itself
    return float(within.double().mean()) * n


def dbscan_graph(
    x: Any,
    eps: float,
    *,
    max_num_neighbors: int | None = None,
    backend: str = "auto",
    check_size: bool = True,
) -> NeighborGraph:
    """The radius graph DBSCAN needs (no self loops), on the fastest backend for the device
    (``backend="auto"``: see :func:`trackcore.neighbors.resolve_backend`).

    Without a neighbour cap the graph holds every pair within ``eps``: on coordinates where most hits lie within
    ``eps`` of each other (an untrained embedding is one blob) that is ~N^2 pairs: billions at TrackML density, more
    memory than a workstation has (README, "The GPU check"). So when ``N (N - 1)`` could exceed
    :data:`MAX_EDGES`, the number of pairs is estimated first (:func:`estimated_edges`) and a ValueError names it
    instead (``check_size=False``: no check).

    Shapes:
        x: (N_hits, D).
    """
    eps = check_positive("eps", eps)
    x = _as_tensor(x)
    n = x.size(0)
    max_edges = MAX_EDGES
    if check_size and max_num_neighbors is None and n * (n - 1) > max_edges:
        pairs = estimated_edges(x, eps)
        if pairs > max_edges:
            raise ValueError(
                f"DBSCAN at eps {eps:g}: ~{pairs / n:,.0f} of the {n:,} points lie within eps of each point (estimated "
                f"from {min(n, _SAMPLE)}), ~{pairs:,.0f} pairs, over the {max_edges:,} the radius graph may hold: the "
                "coordinates are nearly one blob (an untrained or collapsed model?) or eps is too large for them"
            )
    return radius_graph(x, eps, max_num_neighbors=max_num_neighbors, loop=False, backend=backend)


def labels_from_graph(
    neighbor_e: np.ndarray,
    query_e: np.ndarray,
    distance_e: np.ndarray,
    num_points: int,
    *,
    eps: float,
    min_samples: int,
) -> np.ndarray:
    """DBSCAN labels from a radius graph (self loops excluded) at any radius ``>= eps``.

    Only edges with ``distance <= eps`` are used, so one graph serves every smaller ``eps``.

    Args:
        neighbor_e, query_e: the two ends of each edge (the graph holds both directions).
        distance_e: Euclidean length of each edge.
        num_points: number of points ``N``.
        eps: DBSCAN radius (inclusive).
        min_samples: points within ``eps``, the point itself included, that make it core.

    Returns:
        Cluster label ``0..C-1`` of each point (clusters numbered by their lowest core point),
        ``-1`` for noise.

    Shapes:
        neighbor_e, query_e, distance_e: (E,); returns (N,) int64.
    """
    check_count("min_samples", min_samples, minimum=1)
    if not num_points:
        return np.zeros(0, np.int64)
    keep_e = distance_e <= eps
    neighbor_e, query_e, distance_e = neighbor_e[keep_e], query_e[keep_e], distance_e[keep_e]
    core_j = np.bincount(query_e, minlength=num_points) + 1 >= min_samples
    core_e = core_j[neighbor_e] & core_j[query_e]
    component_j = _labels(neighbor_e[core_e], query_e[core_e], num_points)
    _, cluster_j = np.unique(np.where(core_j, component_j, -1), return_inverse=True)
    label_j = np.where(core_j, cluster_j - (not core_j.all()), -1)

    border_e = core_j[neighbor_e] & ~core_j[query_e]
    b_neighbor, b_query, b_distance = neighbor_e[border_e], query_e[border_e], distance_e[border_e]
    order = np.lexsort((b_neighbor, b_distance, b_query))
    first = np.ones(order.size, bool)
    first[1:] = b_query[order][1:] != b_query[order][:-1]
    nearest = order[first]
    label_j[b_query[nearest]] = label_j[b_neighbor[nearest]]
    return label_j


def dbscan_labels(
    x: Any, eps: float, min_samples: int, *, max_num_neighbors: int | None = None, backend: str = "auto"
) -> np.ndarray:
    """DBSCAN cluster label of every point, ``-1`` for noise (see the module docstring).

    Args:
        x: points (numpy array or torch tensor on any device).
        eps: neighbourhood radius, Euclidean, inclusive (``d <= eps``).
        min_samples: points within ``eps`` (the point itself included) that make a core point.
        max_num_neighbors: cap on the neighbours kept per point (the nearest ones); None for
            exact DBSCAN. A cap below ``min_samples - 1`` can hide core points.
        backend: neighbour-search backend (``"auto"``: see :func:`trackcore.neighbors.resolve_backend`).

    Shapes:
        x: (N_hits, D); returns (N_hits,) int64.

    Raises:
        ValueError: ``x`` not 2-D or not finite, ``eps <= 0``, ``min_samples < 1``.
    """
    check_count("min_samples", min_samples, minimum=1)
    graph = dbscan_graph(x, eps, max_num_neighbors=max_num_neighbors, backend=backend)
    edge_index = as_numpy(graph.edge_index)
    return labels_from_graph(
        edge_index[0], edge_index[1], as_numpy(graph.distance), graph.num_queries, eps=eps, min_samples=min_samples
    )


def dbscan(
    x: Any,
    eps: float,
    min_samples: int,
    *,
    hit_id: Any | None = None,
    max_num_neighbors: int | None = None,
    backend: str = "auto",
    min_hits: int = 1,
) -> TrackCandidates:
    """One track per DBSCAN cluster of the embedded hits; noise hits stay unassigned.

    Args:
        x: hit embedding (numpy array or torch tensor on any device).
        eps, min_samples, max_num_neighbors, backend: as in :func:`dbscan_labels`.
        hit_id: TrackML hit id of each hit; the index when None.
        min_hits: tracks with fewer hits are dropped.

    Shapes:
        x: (N_hits, D); hit_id: (N_hits,).
    """
    check_count("min_hits", min_hits)
    hit_ids = check_hit_id(hit_id, len(x))
    label_j = dbscan_labels(x, eps, min_samples, max_num_neighbors=max_num_neighbors, backend=backend)
    return TrackCandidates.from_labels(label_j, hit_ids, min_hits=min_hits)
