from __future__ import annotations

import re

import pytest
import torch

from trackcore.neighbors import NeighborGraph


def graph(**overrides) -> NeighborGraph:
    fields = {
        "edge_index": torch.tensor([[1, 0], [0, 1]]),
        "distance": torch.tensor([0.5, 0.5]),
        "num_queries": 2,
        "num_database": 2,
        "backend": "torch",
    }
    return NeighborGraph(**(fields | overrides))


def test_valid_graph_and_helpers() -> None:
    g = graph()
    assert g.num_edges == 2
    assert g.degree().tolist() == [1, 1]
    assert g.to("cpu").edge_index.tolist() == [[1, 0], [0, 1]]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"edge_index": torch.tensor([0, 1])}, "Expected 'edge_index' to have shape (2, E) (got (2,))"),
        ({"edge_index": torch.zeros(3, 2, dtype=torch.int64)}, "to have shape (2, E) (got (3, 2))"),
        ({"edge_index": torch.tensor([[1, 0], [0, 1]], dtype=torch.int32)}, "of type torch.int64 (got torch.int32)"),
        ({"distance": torch.zeros(2, 1)}, "Expected 'distance' to be one-dimensional (got 2 dimensions)"),
        ({"distance": torch.zeros(2, dtype=torch.float64)}, "Expected 'distance' to be of type torch.float32"),
        ({"distance": torch.zeros(3)}, "Expected 'distance' to hold one entry per edge (2 edges, got 3 entries)"),
        ({"num_queries": -1}, "Expected 'num_queries' to be a non-negative int (got -1)"),
        ({"num_database": 1}, "Expected 'edge_index[0]' to index the database, in [0, 1) (got values in [0, 1])"),
        ({"num_queries": 1}, "Expected 'edge_index[1]' to index the queries, in [0, 1) (got values in [0, 1])"),
    ],
)
def test_invalid_graph_raises(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        graph(**overrides)


def test_non_tensor_raises_type_error() -> None:
    with pytest.raises(TypeError, match="Expected 'edge_index' and 'distance' to be torch tensors"):
        graph(distance=[0.5, 0.5])
