"""The chunked search loop shared by ``knn_graph`` and ``radius_graph``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from trackcore.neighbors.backends import Searcher, compute_device, make_searcher
from trackcore.neighbors.inputs import check_positive_int
from trackcore.neighbors.output import NeighborGraph

EdgeParts = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
"""``(src, dst, dist)`` of one chunk."""


def run_search(
    x: torch.Tensor,
    query: torch.Tensor | None,
    backend: str,
    chunk_size: int | None,
    chunk_edges: Callable[[Searcher, torch.Tensor, torch.Tensor, int, bool], EdgeParts],
) -> NeighborGraph:
    """Search queries chunk by chunk and gather the edges into a :class:`NeighborGraph`.

    Args:
        x: validated database (float32, the caller's device).
        query: validated queries, or None for the graph on ``x`` itself.
        backend: a resolved backend name.
        chunk_size: queries per chunk, or None for the backend's default.
        chunk_edges: ``(searcher, query_chunk, x, start, self_graph) -> (src, dst, dist)`` for one chunk.

    Shapes:
        x: ``(N, D)``; query: ``(M, D)``; graph edge_index ``(2, E)``, distance ``(E,)`` on ``x.device``.
    """
    if chunk_size is not None:
        chunk_size = check_positive_int("chunk_size", chunk_size)
    out_device = x.device
    self_graph = query is None
    num_database = len(x)
    num_queries = num_database if self_graph else len(query)
    if num_database == 0 or num_queries == 0:
        return _empty(num_queries, num_database, backend, out_device)

    device = compute_device(backend, out_device)
    x = x.to(device)
    query = x if self_graph else query.to(device)
    with torch.no_grad():
        searcher = make_searcher(backend, x)
        step = chunk_size or searcher.default_chunk_size()
        parts = [chunk_edges(searcher, q, x, start, self_graph) for start, q in _chunks(query, step)]
    src, dst, dist = (torch.cat(p) for p in zip(*parts, strict=True))
    return NeighborGraph(
        edge_index=torch.stack([src, dst]).to(out_device),
        distance=dist.to(out_device),
        num_queries=num_queries,
        num_database=num_database,
        backend=backend,
    )


def _chunks(query: torch.Tensor, step: int) -> Iterator[tuple[int, torch.Tensor]]:
    for start in range(0, len(query), step):
        yield start, query[start : start + step]


def _empty(num_queries: int, num_database: int, backend: str, device: torch.device) -> NeighborGraph:
    return NeighborGraph(
        edge_index=torch.empty(2, 0, dtype=torch.int64, device=device),
        distance=torch.empty(0, dtype=torch.float32, device=device),
        num_queries=num_queries,
        num_database=num_database,
        backend=backend,
    )
