"""Fixed-radius neighbour graphs: ``radius_graph``."""

from __future__ import annotations

import torch

from trackcore.neighbors.backends import Searcher, resolve_backend
from trackcore.neighbors.edges import dense_edges, sparse_edges
from trackcore.neighbors.inputs import check_points, check_positive_int, check_radius
from trackcore.neighbors.output import NeighborGraph
from trackcore.neighbors.search import EdgeParts, run_search


def radius_graph(
    x: torch.Tensor,
    r: float,
    *,
    query: torch.Tensor | None = None,
    max_num_neighbors: int | None = None,
    loop: bool = False,
    backend: str = "auto",
    chunk_size: int | None = None,
) -> NeighborGraph:
    """Every database point within Euclidean distance ``r`` of each query (``d <= r``, inclusive).

    ``r`` is a plain distance for every backend (FAISS's squared radius is handled inside). With
    ``max_num_neighbors``, each query keeps its *nearest* ``max_num_neighbors`` points within ``r``
    (deterministic; torch-cluster keeps arbitrary ones); the search is then a kNN with
    ``k = max_num_neighbors`` cut at ``r``. Without a cap, all points within ``r`` are returned
    (FAISS ``range_search``, ``cKDTree.query_ball_point`` or a torch distance mask, chunked over queries).
    The ``"faiss-gpu"`` backend has no range search: uncapped it runs the ``"torch"`` backend on the same
    GPU and the graph says ``backend="torch"``.

    Args:
        x: database points (any float dtype; searched in float32).
        r: radius, > 0.
        query: query points; None searches ``x`` against itself.
        max_num_neighbors: keep at most this many (the nearest) per query; None for no cap.
        loop: with ``query=None``, whether the self pair ``(i, i)`` is kept. Ignored when ``query`` is given.
        backend: ``"auto"``, ``"faiss-gpu"``, ``"faiss-cpu"``, ``"torch"``, ``"kdtree"`` or ``"cells"``
            (``"auto"`` on the CPU: the KD-tree in up to 16 dimensions, see :func:`resolve_backend`).
        chunk_size: queries searched at a time (bounds memory); None for the backend's default.

    Returns:
        A :class:`NeighborGraph` on the device of ``x``, grouped by query, nearest first.

    Raises:
        ValueError: bad shapes, dimensions, NaN/inf, ``r <= 0``, ``max_num_neighbors < 1``, unknown or
            unavailable backend.

    Shapes:
        x: ``(N, D)``; query: ``(M, D)``; edge_index: ``(2, E)``; distance: ``(E,)``.
    """
    x, query = check_points(x, query)
    r = check_radius(r)
    cap = None if max_num_neighbors is None else check_positive_int("max_num_neighbors", max_num_neighbors)
    name = resolve_backend(backend, x.device, radius_shape=(x.size(0), x.size(1)))
    if name == "faiss-gpu" and cap is None:
        name = "torch"

    def chunk_edges(searcher: Searcher, q: torch.Tensor, db: torch.Tensor, start: int, self_graph: bool) -> EdgeParts:
        exclude_self = self_graph and not loop
        if cap is None:
            rows, cols = searcher.radius(q, r)
            return sparse_edges(q, db, start, rows, cols, radius=r, exclude_self=exclude_self)
        candidates = searcher.knn(q, min(cap + exclude_self, len(db)), max_distance=r)
        return dense_edges(q, db, start, candidates, limit=cap, exclude_self=exclude_self, radius=r)

    return run_search(x, query, name, chunk_size, chunk_edges)
