"""CUDA paths: faiss-gpu and torch on the GPU against brute force, with outputs left on the device."""

from __future__ import annotations

import pytest
import torch

from tests.trackcore.neighbors.brute_force import assert_knn_matches, assert_radius_matches, exact_distances
from trackcore.neighbors import available_backends, knn_graph, radius_graph, resolve_backend

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
GPU_BACKENDS = [
    "torch",
    pytest.param(
        "faiss-gpu",
        marks=pytest.mark.skipif(
            "faiss-gpu" not in available_backends(), reason="faiss has no GPU support here (install faiss-gpu-cu12)"
        ),
    ),
]


@pytest.mark.parametrize("backend", GPU_BACKENDS)
def test_gpu_backends_match_brute_force(points: torch.Tensor, queries: torch.Tensor, backend: str) -> None:
    x, q = points.cuda(), queries.cuda()
    for query, loop in ((None, False), (None, True), (q, False)):
        ref = exact_distances(points, None if query is None else queries, loop)
        graph = knn_graph(x, 7, query=query, loop=loop, backend=backend)
        assert graph.edge_index.is_cuda and graph.distance.is_cuda
        assert graph.backend == backend
        assert_knn_matches(graph, ref, 7)
        for cap in (None, 4):
            graph = radius_graph(x, 0.45, query=query, loop=loop, max_num_neighbors=cap, backend=backend)
            assert graph.edge_index.is_cuda and graph.distance.is_cuda
            # faiss-gpu has no range search: uncapped radius runs on torch and says so
            assert graph.backend == ("torch" if cap is None else backend)
            assert_radius_matches(graph, ref, 0.45, cap)


def test_auto_and_host_backends_on_cuda_tensors(points: torch.Tensor) -> None:
    x = points.cuda()
    assert resolve_backend("auto", x.device) in ("faiss-gpu", "torch")
    cpu_graph = knn_graph(points, 5, backend="torch")
    for backend in ("auto", "faiss-cpu", "kdtree"):
        graph = knn_graph(x, 5, backend=backend)
        assert graph.edge_index.is_cuda, backend  # host backends copy the graph back to the GPU
        assert torch.equal(graph.edge_index.cpu(), cpu_graph.edge_index)
        torch.testing.assert_close(graph.distance.cpu(), cpu_graph.distance)
