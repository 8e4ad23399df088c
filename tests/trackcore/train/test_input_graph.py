"""input_graph: the stage's graph, optionally cut on the edge classifier's scores."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from trackcore.train import input_graph


def _event(**extra) -> Data:
    edge_index = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    return Data(x=torch.zeros(4, 4), edge_index=edge_index, **extra)


def test_without_a_cut_the_whole_graph() -> None:
    event = _event(edge_score=torch.tensor([0.9, 0.05, 0.5, 0.1]))
    assert torch.equal(input_graph(event), event.edge_index)


def test_cut_keeps_the_edges_at_or_above_it_in_order() -> None:
    event = _event(edge_score=torch.tensor([0.9, 0.05, 0.5, 0.1]))
    assert input_graph(event, 0.1).tolist() == [[0, 2, 3], [1, 3, 0]]
    assert input_graph(event, 0.95).shape == (2, 0)


def test_named_errors() -> None:
    with pytest.raises(ValueError, match="no 'edge_index'"):
        input_graph(Data(x=torch.zeros(2, 4)))
    with pytest.raises(ValueError, match="needs the event's 'edge_score'"):
        input_graph(_event(), 0.5)
    with pytest.raises(ValueError, match="3 entries for 4 edges"):
        input_graph(_event(edge_score=torch.rand(3)), 0.5)
