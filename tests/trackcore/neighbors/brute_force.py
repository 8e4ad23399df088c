"""Exact float64 references and the comparisons the neighbour tests make against them (tie-tolerant)."""

from __future__ import annotations

import torch

from trackcore.neighbors import NeighborGraph

CPU_BACKENDS = ["faiss-cpu", "torch", "kdtree", "cells"]
TIE_TOL = 1e-5
"""Distances closer than this count as tied; neighbour sets are compared only away from ties."""


def exact_distances(x: torch.Tensor, query: torch.Tensor | None, loop: bool) -> torch.Tensor:
    """Float64 distances of every (query, database) pair without the matrix-product shortcut;
    self pairs set to inf for the self graph without loops. Shapes: ``(M, N)``."""
    q = x if query is None else query
    dist = torch.cdist(q.double(), x.double(), compute_mode="donot_use_mm_for_euclid_dist")
    if query is None and not loop:
        dist.fill_diagonal_(float("inf"))
    return dist


def per_query(graph: NeighborGraph) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(neighbours, distances) of each query, checking the documented edge order on the way."""
    src, dst = graph.edge_index.cpu()
    dist = graph.distance.cpu()
    assert bool((dst[1:] >= dst[:-1]).all()), "edges not grouped by ascending query"
    counts = torch.bincount(dst, minlength=graph.num_queries).tolist()
    out = list(zip(src.split(counts), dist.split(counts), strict=True))
    for _, d in out:
        assert bool((d[1:] >= d[:-1]).all()), "edges of a query not sorted by distance"
    return out


def assert_knn_matches(graph: NeighborGraph, ref: torch.Tensor, k: int) -> None:
    """Exact per-query distances; neighbour sets equal wherever the k-th neighbour is not tied."""
    kk = min(k, int(torch.isfinite(ref[0]).sum()))
    ref_d, ref_i = ref.sort(dim=1)
    assert graph.num_edges == ref.size(0) * kk
    for row, (nbr, d) in enumerate(per_query(graph)):
        torch.testing.assert_close(d.double(), ref_d[row, :kk], atol=1e-4, rtol=0)
        boundary_tied = kk < ref.size(1) and ref_d[row, kk] - ref_d[row, kk - 1] < TIE_TOL
        if not boundary_tied:
            assert set(nbr.tolist()) == set(ref_i[row, :kk].tolist()), f"query {row}"


def assert_radius_matches(graph: NeighborGraph, ref: torch.Tensor, r: float, cap: int | None) -> None:
    """Every pair with d <= r (the nearest ``cap`` of them), away from ties and the boundary."""
    for row, (nbr, d) in enumerate(per_query(graph)):
        ref_d, ref_i = ref[row].sort()
        inside = int((ref_d <= r).sum())
        n = inside if cap is None else min(cap, inside)
        assert len(d) == n, f"query {row}: {len(d)} neighbours, expected {n}"
        torch.testing.assert_close(d.double(), ref_d[:n], atol=1e-4, rtol=0)
        assert bool((d <= r).all())
        tied = n < len(ref_d) and ref_d[n] - ref_d[n - 1] < TIE_TOL if n > 0 else False
        if not tied:
            assert set(nbr.tolist()) == set(ref_i[:n].tolist()), f"query {row}"
