"""Exact search with ``scipy.spatial.cKDTree`` on all cores; CPU only."""

from __future__ import annotations

import itertools

import numpy as np
import torch

KDTREE_CHUNK = 1 << 15
"""Queries per chunk: bounds the result arrays (each chunk is spread over all cores)."""
_RADIUS_SLACK = 1e-5
"""Relative widening of the radius: the tree works in float64, the final filter in float32."""


class KDTreeSearcher:
    """``cKDTree`` over the database; queries with ``workers=-1``.

    Capped radius searches pass the radius as ``distance_upper_bound``, which prunes the tree walk;
    uncapped ones use ``query_ball_point``. KD-trees shine in few dimensions and on clustered data,
    and degrade towards brute force on spread-out data in ~10+ dimensions.

    Shapes:
        x: ``(N, D)`` float32 on the CPU.
    """

    name = "kdtree"

    def __init__(self, x: torch.Tensor) -> None:
        from scipy.spatial import cKDTree

        self.device = torch.device("cpu")
        self.num_database = len(x)
        self.tree = cKDTree(x.detach().numpy())

    def default_chunk_size(self) -> int:
        return KDTREE_CHUNK

    def knn(self, query: torch.Tensor, k: int, max_distance: float | None = None) -> torch.Tensor:
        bound = np.inf if max_distance is None else max_distance * (1 + _RADIUS_SLACK) + 1e-30
        _, idx = self.tree.query(query.numpy(), k=k, distance_upper_bound=bound, workers=-1)
        idx = np.asarray(idx, dtype=np.int64).reshape(len(query), k)
        idx[idx >= self.num_database] = -1  # scipy marks "no neighbour" with N
        return torch.from_numpy(idx)

    def radius(self, query: torch.Tensor, r: float) -> tuple[torch.Tensor, torch.Tensor]:
        found = self.tree.query_ball_point(
            query.numpy(), r * (1 + _RADIUS_SLACK) + 1e-30, workers=-1, return_sorted=False
        )
        counts = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        cols = np.fromiter(itertools.chain.from_iterable(found), dtype=np.int64, count=int(counts.sum()))
        rows = np.repeat(np.arange(len(found), dtype=np.int64), counts)
        return torch.from_numpy(rows), torch.from_numpy(cols)
