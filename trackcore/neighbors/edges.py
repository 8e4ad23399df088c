"""Turning a backend's candidates into final edges: one distance computation, one filter, one order.

Every backend's candidates pass through here, so "distance" (Euclidean, float32, from the
coordinates) and "within r" (``d <= r``) mean the same for all of them, whatever the backend
computed internally (FAISS's squared expansion, the tree's float64).
"""

from __future__ import annotations

import torch


def _distances(q: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (q - x).square_().sum(dim=-1).sqrt_()


def dense_edges(
    query: torch.Tensor,
    x: torch.Tensor,
    start: int,
    idx: torch.Tensor,
    *,
    limit: int,
    exclude_self: bool,
    radius: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Edges from a fixed number of candidates per query (kNN results), at most ``limit`` per query.

    Args:
        query: this chunk's queries; query ``i`` is global query ``start + i``.
        x: the database.
        idx: candidate database indices per query, ``-1`` for none.
        limit: neighbours kept per query (the nearest ones).
        exclude_self: drop pairs with database index == global query index (self graph, ``loop=False``).
        radius: if given, drop pairs with distance > radius.

    Returns:
        ``(src, dst, dist)`` ordered by query, then distance, then neighbour index.

    Shapes:
        query: ``(m, D)``; x: ``(N, D)``; idx: ``(m, c)``; outputs: ``(E,)`` each.
    """
    m, c = idx.shape
    valid = idx >= 0
    safe = idx.clamp(min=0)
    dist = _distances(query.unsqueeze(1), x[safe])
    drop = ~valid
    if exclude_self:
        drop |= safe == torch.arange(start, start + m, device=idx.device).unsqueeze(1)
    if radius is not None:
        drop |= dist > radius
    dist = dist.masked_fill_(drop, float("inf"))
    # ties broken by neighbour index: sort by index, then stably by distance
    safe, perm = safe.sort(dim=1)
    dist = dist.gather(1, perm)
    dist, perm = dist.sort(dim=1, stable=True)
    safe = safe.gather(1, perm)
    keep = torch.isfinite(dist)
    keep[:, limit:] = False
    rows, cols = keep.nonzero(as_tuple=True)
    return safe[rows, cols], rows + start, dist[rows, cols]


def sparse_edges(
    query: torch.Tensor,
    x: torch.Tensor,
    start: int,
    rows: torch.Tensor,
    cols: torch.Tensor,
    *,
    radius: float,
    exclude_self: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Edges from candidate pairs (uncapped radius search): keep ``d <= radius``, order them.

    Returns:
        ``(src, dst, dist)`` ordered by query, then distance, then neighbour index.

    Shapes:
        query: ``(m, D)``; x: ``(N, D)``; rows, cols: ``(C,)`` (chunk-local query, database index);
        outputs: ``(E,)`` each.
    """
    dist = _distances(query[rows], x[cols])
    keep = dist <= radius
    if exclude_self:
        keep &= cols != rows + start
    rows, cols, dist = rows[keep], cols[keep], dist[keep]
    # lexicographic (row, dist, col) through stable sorts from the last key to the first
    perm = cols.argsort(stable=True)
    perm = perm[dist[perm].argsort(stable=True)]
    perm = perm[rows[perm].argsort(stable=True)]
    return cols[perm], rows[perm] + start, dist[perm]
