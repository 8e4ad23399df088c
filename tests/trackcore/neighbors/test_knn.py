from __future__ import annotations

import pytest
import torch

from tests.trackcore.neighbors.brute_force import CPU_BACKENDS, assert_knn_matches, exact_distances
from trackcore.neighbors import knn_graph


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("loop", [False, True])
def test_self_graph_matches_brute_force(points: torch.Tensor, backend: str, loop: bool) -> None:
    graph = knn_graph(points, 8, loop=loop, backend=backend)
    assert graph.backend == backend
    assert (graph.num_queries, graph.num_database) == (500, 500)
    assert_knn_matches(graph, exact_distances(points, None, loop), 8)
    self_pairs = int((graph.edge_index[0] == graph.edge_index[1]).sum())
    assert self_pairs == (500 if loop else 0)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_queries_against_database_match_brute_force(points: torch.Tensor, queries: torch.Tensor, backend: str) -> None:
    graph = knn_graph(points, 5, query=queries, backend=backend)
    assert (graph.num_queries, graph.num_database) == (200, 500)
    assert_knn_matches(graph, exact_distances(points, queries, loop=True), 5)


def test_backends_give_identical_graphs(points: torch.Tensor) -> None:
    # one distance computation for all backends: without ties the graphs agree bit for bit
    graphs = [knn_graph(points, 10, backend=b) for b in CPU_BACKENDS]
    for other in graphs[1:]:
        assert torch.equal(other.edge_index, graphs[0].edge_index)
        assert torch.equal(other.distance, graphs[0].distance)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_distance_is_euclidean_not_squared(backend: str) -> None:
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [30.0, 40.0]])
    graph = knn_graph(x, 1, backend=backend)
    assert graph.edge_index.tolist() == [[1, 0, 1], [0, 1, 2]]
    torch.testing.assert_close(graph.distance, torch.tensor([5.0, 5.0, 45.0]))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_precise_far_from_origin(backend: str) -> None:
    # detector-like coordinates: |x|^2 ~ 1e7 swamps float32 |q|^2 + |x|^2 - 2 q.x without centring
    gen = torch.Generator().manual_seed(2)
    x = torch.tensor([1000.0, -2000.0, 500.0]) + torch.rand(300, 3, generator=gen)
    graph = knn_graph(x, 4, backend=backend)
    assert_knn_matches(graph, exact_distances(x, None, loop=False), 4)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_loop_false_drops_only_the_self_pair(backend: str) -> None:
    x = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [5.0, 5.0]])
    graph = knn_graph(x, 2, backend=backend)
    src, dst = graph.edge_index
    assert not bool((src == dst).any())
    assert graph.edge_index[:, :6].tolist() == [[1, 2, 0, 2, 0, 1], [0, 0, 1, 1, 2, 2]]
    assert graph.distance[:6].tolist() == [0.0] * 6


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_k_larger_than_available_returns_all(backend: str) -> None:
    x = torch.rand(5, 3, generator=torch.Generator().manual_seed(3))
    assert knn_graph(x, 10, backend=backend).degree().tolist() == [4] * 5
    assert knn_graph(x, 10, loop=True, backend=backend).degree().tolist() == [5] * 5
    assert knn_graph(x, 10, query=x[:2], backend=backend).degree().tolist() == [5, 5]
    assert knn_graph(x[:1], 3, backend=backend).num_edges == 0


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_chunked_search_is_identical(points: torch.Tensor, queries: torch.Tensor, backend: str) -> None:
    for query in (None, queries):
        whole = knn_graph(points, 6, query=query, backend=backend)
        chunked = knn_graph(points, 6, query=query, backend=backend, chunk_size=7)
        assert torch.equal(whole.edge_index, chunked.edge_index)
        assert torch.equal(whole.distance, chunked.distance)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_empty_inputs_give_empty_graphs(backend: str) -> None:
    empty_db = knn_graph(torch.empty(0, 3), 4, backend=backend)
    assert (empty_db.num_edges, empty_db.num_queries, empty_db.num_database) == (0, 0, 0)
    no_queries = knn_graph(torch.rand(10, 3), 4, query=torch.empty(0, 3), backend=backend)
    assert (no_queries.num_edges, no_queries.num_queries, no_queries.num_database) == (0, 0, 10)
    assert no_queries.edge_index.shape == (2, 0)
    assert no_queries.distance.dtype == torch.float32


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_any_float_dtype_is_searched_in_float32(points: torch.Tensor, dtype: torch.dtype) -> None:
    x = points.to(dtype)
    graph = knn_graph(x, 3)
    assert graph.distance.dtype == torch.float32
    assert graph.backend == "faiss-cpu"
    assert_knn_matches(graph, exact_distances(x.float(), None, loop=False), 3)


def test_inputs_needing_grad_are_accepted(points: torch.Tensor) -> None:
    graph = knn_graph(points.clone().requires_grad_(), 3)
    assert not graph.distance.requires_grad
