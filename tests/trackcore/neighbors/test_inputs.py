"""Every bad argument of knn_graph / radius_graph raises with a message that says what is wrong."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from trackcore.neighbors import knn_graph, radius_graph

X = torch.rand(10, 3, generator=torch.Generator().manual_seed(0))
BAD_CALLS = [
    (lambda: knn_graph(torch.rand(10), 2), "Expected 'x' to be two-dimensional, (num_points, dim) (got shape (10,))"),
    (lambda: knn_graph(torch.rand(2, 3, 4), 2), "Expected 'x' to be two-dimensional"),
    (lambda: radius_graph(X, 1.0, query=torch.rand(5)), "Expected 'query' to be two-dimensional"),
    (lambda: knn_graph(X, 2, query=torch.rand(4, 2)), "'query' and 'x' must have the same number of dimensions"),
    (lambda: radius_graph(X, 1.0, query=torch.rand(4, 5)), "(got query (4, 5), x (10, 3))"),
    (lambda: knn_graph(torch.ones(4, 3, dtype=torch.int64), 2), "Expected 'x' to be a floating-point tensor"),
    (lambda: knn_graph(torch.rand(4, 0), 2), "Expected 'x' to have at least one feature dimension"),
    (lambda: knn_graph(X, 0), "'k' must be an integer >= 1 (got 0)"),
    (lambda: knn_graph(X, -3), "'k' must be an integer >= 1 (got -3)"),
    (lambda: knn_graph(X, 2.5), "'k' must be an integer >= 1 (got 2.5)"),
    (lambda: radius_graph(X, 0.0), "radius 'r' must be a finite number > 0 (got 0.0)"),
    (lambda: radius_graph(X, -1.0), "radius 'r' must be a finite number > 0 (got -1.0)"),
    (lambda: radius_graph(X, float("nan")), "radius 'r' must be a finite number > 0 (got nan)"),
    (lambda: radius_graph(X, 1.0, max_num_neighbors=0), "'max_num_neighbors' must be an integer >= 1 (got 0)"),
    (lambda: knn_graph(X, 2, chunk_size=0), "'chunk_size' must be an integer >= 1 (got 0)"),
    (lambda: knn_graph(torch.tensor([[0.0, float("nan")], [1.0, 1.0]]), 1), "'x' contains NaN or inf (1 of 2 points)"),
    (lambda: radius_graph(X, 1.0, query=torch.full((3, 3), float("inf"))), "'query' contains NaN or inf (3 of 3"),
    (lambda: knn_graph(X, 2, backend="cuml"), "unknown neighbour-search backend 'cuml'; choose one of 'auto', "),
    (lambda: radius_graph(X, 1.0, backend="faiss-gpu"), "'faiss-gpu' needs CUDA tensors, but the points are on cpu"),
]


@pytest.mark.parametrize(("call", "message"), BAD_CALLS, ids=[m[:40] for _, m in BAD_CALLS])
def test_bad_arguments_raise_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def test_non_tensor_raises_type_error() -> None:
    with pytest.raises(TypeError, match=re.escape("Expected 'x' to be a torch.Tensor (got list)")):
        knn_graph([[0.0, 1.0]], 1)


def test_numpy_scalars_are_accepted() -> None:
    knn = knn_graph(X, np.int64(3), chunk_size=np.int64(4))
    assert knn.num_edges == 30
    capped = radius_graph(X, np.float32(0.5), max_num_neighbors=np.int64(3))
    assert capped.num_edges == int((knn.distance <= np.float32(0.5)).sum())
