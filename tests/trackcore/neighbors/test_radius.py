from __future__ import annotations

import pytest
import torch

from tests.trackcore.neighbors.brute_force import CPU_BACKENDS, assert_radius_matches, exact_distances
from trackcore.neighbors import radius_graph

R = 0.45
"""About 8 neighbours per point in the 6-dim unit box; R^2 ~ 0.2 is a very different radius (squared bug)."""


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("cap", [None, 4])
@pytest.mark.parametrize("loop", [False, True])
def test_self_graph_matches_brute_force(points: torch.Tensor, backend: str, cap: int | None, loop: bool) -> None:
    graph = radius_graph(points, R, max_num_neighbors=cap, loop=loop, backend=backend)
    assert graph.backend == backend
    ref = exact_distances(points, None, loop)
    assert_radius_matches(graph, ref, R, cap)
    assert graph.num_edges > 500 * (2 if cap else 5)  # the test means something: many pairs inside R
    assert int((graph.edge_index[0] == graph.edge_index[1]).sum()) == (500 if loop else 0)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("cap", [None, 3])
def test_queries_against_database_match_brute_force(
    points: torch.Tensor, queries: torch.Tensor, backend: str, cap: int | None
) -> None:
    graph = radius_graph(points, R, query=queries, max_num_neighbors=cap, backend=backend)
    assert (graph.num_queries, graph.num_database) == (200, 500)
    assert_radius_matches(graph, exact_distances(points, queries, loop=True), R, cap)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("cap", [None, 2])
def test_radius_is_euclidean_and_inclusive(backend: str, cap: int | None) -> None:
    # pair distances 5.0, 0.5 and 5.41: r = 5 keeps exactly the first two pairs. Passing r where FAISS
    # wants r^2 would search within sqrt(5) (losing the 5.0 pair); squaring twice would add the 5.41 pair.
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0], [3.0, 4.5]])
    at = radius_graph(x, 5.0, max_num_neighbors=cap, backend=backend)
    assert at.edge_index.tolist() == [[1, 2, 0, 1], [0, 1, 1, 2]]
    assert at.distance.tolist() == [5.0, 0.5, 5.0, 0.5]
    inside = radius_graph(x, 4.99, max_num_neighbors=cap, backend=backend)
    assert inside.edge_index.tolist() == [[2, 1], [1, 2]]
    assert inside.distance.tolist() == [0.5, 0.5]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_cap_keeps_the_nearest(backend: str) -> None:
    x = torch.tensor([[0.0], [0.3], [-0.1], [0.2], [5.0]])
    graph = radius_graph(x, 1.0, query=torch.tensor([[0.0]]), max_num_neighbors=2, backend=backend)
    assert graph.edge_index.tolist() == [[0, 2], [0, 0]]
    torch.testing.assert_close(graph.distance, torch.tensor([0.0, 0.1]))


def test_backends_give_identical_graphs(points: torch.Tensor) -> None:
    for cap in (None, 5):
        graphs = [radius_graph(points, R, max_num_neighbors=cap, backend=b) for b in CPU_BACKENDS]
        for other in graphs[1:]:
            assert torch.equal(other.edge_index, graphs[0].edge_index)
            assert torch.equal(other.distance, graphs[0].distance)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_precise_far_from_origin(backend: str) -> None:
    x = torch.tensor([1000.0, -2000.0, 500.0]) + torch.rand(300, 3, generator=torch.Generator().manual_seed(4))
    for cap in (None, 3):
        graph = radius_graph(x, 0.2, max_num_neighbors=cap, backend=backend)
        assert_radius_matches(graph, exact_distances(x, None, loop=False), 0.2, cap)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("cap", [None, 3])
def test_chunked_search_is_identical(
    points: torch.Tensor, queries: torch.Tensor, backend: str, cap: int | None
) -> None:
    for query in (None, queries):
        whole = radius_graph(points, R, query=query, max_num_neighbors=cap, backend=backend)
        chunked = radius_graph(points, R, query=query, max_num_neighbors=cap, backend=backend, chunk_size=7)
        assert torch.equal(whole.edge_index, chunked.edge_index)
        assert torch.equal(whole.distance, chunked.distance)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_empty_inputs_and_lone_points(backend: str) -> None:
    assert radius_graph(torch.empty(0, 2), 1.0, backend=backend).num_edges == 0
    graph = radius_graph(torch.rand(4, 2), 1.0, query=torch.empty(0, 2), max_num_neighbors=2, backend=backend)
    assert (graph.num_edges, graph.num_queries, graph.num_database) == (0, 0, 4)
    far = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    assert radius_graph(far, 1.0, backend=backend).num_edges == 0
    assert radius_graph(far, 1.0, loop=True, backend=backend).edge_index.tolist() == [[0, 1], [0, 1]]


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_dense_neighbourhoods_are_complete(backend: str) -> None:
    # Tight clumps of 50 points give every query more neighbours than the kdtree's first
    # bounded probe (32): the uncapped search must still return all of them.
    g = torch.Generator().manual_seed(5)
    centres = torch.randn(6, 8, generator=g)
    x = (centres.repeat_interleave(50, 0) + 0.01 * torch.randn(300, 8, generator=g)).float()
    x = torch.cat([x, torch.randn(40, 8, generator=g)])  # and some lone points
    graph = radius_graph(x, 0.2, backend=backend)
    assert graph.degree().max() >= 49
    assert_radius_matches(graph, exact_distances(x, None, loop=False), 0.2, None)
