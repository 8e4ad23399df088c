"""The exact cell search on what makes pruning hard: many cells, tight clusters beside spread-out points,
queries far outside the data, cells smaller than k, and data far from the origin."""

from __future__ import annotations

import pytest
import torch

from tests.trackcore.neighbors.brute_force import assert_knn_matches, assert_radius_matches, exact_distances
from trackcore.neighbors import backends, cell_search, knn_graph, radius_graph
from trackcore.neighbors.cell_search import CellSearcher


def _tracks_and_noise(seed: int, dim: int = 24) -> torch.Tensor:
    """Unit vectors: 60 tight clusters of 25 (tracks in an embedding) and 1,500 spread ones (noise)."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(60, dim, generator=gen)
    clusters = (centres.repeat_interleave(25, 0) + 0.05 * torch.randn(1500, dim, generator=gen))
    points = torch.cat([clusters, torch.randn(1500, dim, generator=gen)])
    return points / points.norm(dim=1, keepdim=True)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("loop", [False, True])
def test_knn_is_exact_over_many_cells(seed: int, loop: bool) -> None:
    x = _tracks_and_noise(seed)
    assert len(CellSearcher(x).centroids) == len(x) // cell_search.CELL_SIZE  # 62 cells: pruning matters
    graph = knn_graph(x, 12, loop=loop, backend="cells")
    assert_knn_matches(graph, exact_distances(x, None, loop), 12)


@pytest.mark.parametrize("r", [0.05, 0.3])
def test_radius_is_exact_over_many_cells(r: float) -> None:
    x = _tracks_and_noise(2)
    graph = radius_graph(x, r, backend="cells")
    assert_radius_matches(graph, exact_distances(x, None, loop=False), r, None)


def test_wide_radius_equals_the_other_backends() -> None:
    # r = 1.2 takes most cells and a third of all pairs; 22 pairs lie within 1e-6 of r, where float32
    # and the float64 reference disagree, so the check is against the backends' shared final filter
    x = _tracks_and_noise(2)
    graph, kdtree = radius_graph(x, 1.2, backend="cells"), radius_graph(x, 1.2, backend="kdtree")
    assert graph.num_edges > 800_000
    assert torch.equal(graph.edge_index, kdtree.edge_index)


def test_capped_radius_is_exact() -> None:
    x = _tracks_and_noise(3)
    graph = radius_graph(x, 0.4, max_num_neighbors=7, backend="cells")
    assert_radius_matches(graph, exact_distances(x, None, loop=False), 0.4, 7)


def test_queries_far_outside_the_data_and_k_above_any_cell() -> None:
    x = _tracks_and_noise(4)
    gen = torch.Generator().manual_seed(5)
    queries = torch.cat([3.0 * torch.randn(50, 24, generator=gen), x[:50] + 1e-3])
    k = 3 * cell_search.CELL_SIZE  # more than the nearest cells hold: the bound must still be right
    graph = knn_graph(x, k, query=queries, backend="cells")
    assert_knn_matches(graph, exact_distances(x, queries, loop=True), k)


def test_far_from_origin_and_duplicates() -> None:
    gen = torch.Generator().manual_seed(6)
    base = torch.tensor([1000.0, -2000.0, 500.0] + [0.0] * 17)
    x = base + torch.rand(2000, 20, generator=gen)
    x[100:140] = x[100]  # 40 copies of one point: ties, and a cell of identical members
    graph = knn_graph(x, 6, backend="cells")
    assert_knn_matches(graph, exact_distances(x, None, loop=False), 6)
    radius = radius_graph(x, 0.9, backend="cells")
    assert_radius_matches(radius, exact_distances(x, None, loop=False), 0.9, None)


def test_bad_points_are_named_before_any_cell_is_built() -> None:
    x = _tracks_and_noise(8)
    x[5, 3] = float("nan")
    with pytest.raises(ValueError, match=r"'x' contains NaN or inf \(1 of 3000 points\)"):
        knn_graph(x, 5, backend="cells")
    with pytest.raises(ValueError, match="radius 'r' must be a finite number > 0"):
        radius_graph(_tracks_and_noise(8), -1.0, backend="cells")



def _spread_and_tracks(seed: int) -> torch.Tensor:
    """3,000 uniform unit vectors in 24 dimensions (every k-th neighbour far) beside 1,500 clustered ones."""
    gen = torch.Generator().manual_seed(seed)
    spread = torch.randn(3000, 24, generator=gen)
    return torch.cat([spread / spread.norm(dim=1, keepdim=True), _tracks_and_noise(seed)[:1500]])


@pytest.mark.parametrize(("fraction", "faiss"), [(0.0, True), (0.0, False), (1.0, True)])
def test_knn_dense_and_pruned_paths_are_each_exact(
    monkeypatch: pytest.MonkeyPatch, fraction: float, faiss: bool
) -> None:
    """DENSE_PROBE_FRACTION 0: every query compared with every point (by FAISS, or by torch without it);
    1: none (the pruned search only)."""
    monkeypatch.setattr(cell_search, "DENSE_PROBE_FRACTION", fraction)
    if not faiss:
        monkeypatch.setattr(backends, "faiss_cpu_available", lambda: False)
    x = _spread_and_tracks(9)
    graph = knn_graph(x, 10, backend="cells")
    assert_knn_matches(graph, exact_distances(x, None, loop=False), 10)
    queries = 3.0 * torch.randn(40, 24, generator=torch.Generator().manual_seed(10))
    far = knn_graph(x, 3 * cell_search.CELL_SIZE, query=queries, backend="cells")
    assert_knn_matches(far, exact_distances(x, queries, loop=True), 3 * cell_search.CELL_SIZE)


def test_spread_out_queries_take_the_dense_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """On spread-out points the default sends many queries to the dense search, the clustered ones not;
    the graph stays exact."""
    x = _spread_and_tracks(11)
    dense_rows = []
    dense_knn = CellSearcher._dense_knn

    def spy(self: CellSearcher, q: torch.Tensor, k: int) -> torch.Tensor:
        dense_rows.append(len(q))
        return dense_knn(self, q, k)

    monkeypatch.setattr(CellSearcher, "_dense_knn", spy)
    graph = knn_graph(x, 10, backend="cells")
    assert 0.3 * len(x) < sum(dense_rows) < len(x)
    assert_knn_matches(graph, exact_distances(x, None, loop=False), 10)


def test_the_dense_faiss_search_builds_its_index_once_and_agrees_with_torch() -> None:
    from trackcore.neighbors.backends import faiss_cpu_available

    if not faiss_cpu_available():
        pytest.skip("faiss-cpu is not installed: the dense search is torch's alone")
    x = _spread_and_tracks(12)
    searcher = CellSearcher(x, dense_faiss=True)
    q = searcher.x[:50] + 0.01
    first = searcher._dense_knn(q, 8)
    index = searcher._faiss_index
    assert index is not None and index.ntotal == len(x)
    again = searcher._dense_knn(searcher.x[50:90], 8)
    assert searcher._faiss_index is index  # built once
    plain = CellSearcher(x)
    for rows, queries in ((first, q), (again, searcher.x[50:90])):
        d_faiss = (queries[:, None] - searcher.x[rows]).square().sum(-1)
        d_torch = (queries[:, None] - plain.x[plain._dense_knn(queries, 8)]).square().sum(-1)
        torch.testing.assert_close(d_faiss, d_torch, rtol=1e-4, atol=1e-4)  # the same neighbours' distances
