"""k-nearest-neighbour graphs: ``knn_graph``."""

from __future__ import annotations

import torch

from trackcore.neighbors.backends import Searcher, resolve_backend
from trackcore.neighbors.edges import dense_edges
from trackcore.neighbors.inputs import check_points, check_positive_int
from trackcore.neighbors.output import NeighborGraph
from trackcore.neighbors.search import EdgeParts, run_search


def knn_graph(
    x: torch.Tensor,
    k: int,
    *,
    query: torch.Tensor | None = None,
    loop: bool = False,
    backend: str = "auto",
    chunk_size: int | None = None,
) -> NeighborGraph:
    """The ``k`` nearest database points of every query, by exact Euclidean distance.

    All backends are exact; they differ in speed and device (see :func:`resolve_backend`). Where several
    points tie at the k-th distance, which of them are kept may differ between backends. Distances are
    computed in float32 from the coordinates and carry no gradient (recompute them from ``edge_index``
    where gradients are needed).

    Args:
        x: database points (any float dtype; searched in float32).
        k: neighbours per query. A query gets fewer when fewer points exist (``N``, or ``N - 1`` for the
            self graph without loops); no padding is added.
        query: query points; None searches ``x`` against itself.
        loop: with ``query=None``, whether a point may be its own neighbour. ``loop=False`` removes the
            self pair ``(i, i)`` only (a duplicate of ``i`` is still a neighbour) and still returns ``k``
            neighbours. Ignored when ``query`` is given.
        backend: ``"auto"``, ``"faiss-gpu"``, ``"faiss-cpu"``, ``"torch"``, ``"kdtree"`` or ``"cells"``.
        chunk_size: queries searched at a time (bounds memory); None for the backend's default.

    Returns:
        A :class:`NeighborGraph` on the device of ``x``: ``edge_index[0]`` neighbour, ``edge_index[1]``
        query, grouped by query, nearest first.

    Raises:
        ValueError: bad shapes, dimensions, NaN/inf, ``k < 1``, unknown or unavailable backend.

    Shapes:
        x: ``(N, D)``; query: ``(M, D)``; edge_index: ``(2, E)`` with ``E <= M * k``; distance: ``(E,)``.
    """
    x, query = check_points(x, query)
    k = check_positive_int("k", k)
    name = resolve_backend(backend, x.device, knn_shape=(x.size(0), x.size(1)))

    def chunk_edges(searcher: Searcher, q: torch.Tensor, db: torch.Tensor, start: int, self_graph: bool) -> EdgeParts:
        exclude_self = self_graph and not loop
        candidates = searcher.knn(q, min(k + exclude_self, len(db)))
        return dense_edges(q, db, start, candidates, limit=k, exclude_self=exclude_self)

    return run_search(x, query, name, chunk_size, chunk_edges)
