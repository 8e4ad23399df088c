"""The edge filter: shapes, gradients, overfitting a tiny event, and the thinned graph it writes."""

from __future__ import annotations

import pytest
import torch

from tests.ec.test_edge_classifier import check_edge_logits_model, tiny_graph_event, train_steps
from trackcore.graph.filter import EdgeFilter, FilterMLP
from trackcore.losses import pair_labels


@pytest.mark.parametrize("edge_features", [False, True])
def test_shapes_and_finite_gradients(edge_features):
    torch.manual_seed(0)
    data = tiny_graph_event()
    check_edge_logits_model(FilterMLP(node_in=data.x.shape[1], hidden_dim=16, n_layers=2,
                                      edge_features=edge_features), data)


def test_overfits_a_tiny_event_and_writes_the_thinned_graph(single_thread):
    torch.manual_seed(0)
    data = tiny_graph_event()
    module = EdgeFilter(model=FilterMLP(node_in=data.x.shape[1], hidden_dim=32, n_layers=3),
                        optimizer=lambda p: torch.optim.Adam(p, lr=2e-3), min_pt=0.0, edge_cut=0.3)
    train_steps(module, data, 300)
    with torch.no_grad():
        out = module.infer(data)
        scores = module.edge_scores(data)
    m = module.edge_metrics(data, out)
    assert m.auc > 0.99 and m.efficiency == 1.0
    # the written graph is exactly the input edges above the cut, with their scores
    keep = scores > 0.3
    assert torch.equal(out["edge_index"], data.edge_index[:, keep]) and torch.equal(out["edge_score"], scores[keep])
    assert 0 < keep.sum() < keep.numel()
    y = pair_labels(data.edge_index, data.particle_id)
    assert pair_labels(out["edge_index"], data.particle_id).float().mean() > y.float().mean()  # purer


def test_edge_cut_outside_unit_interval_is_an_error():
    with pytest.raises(ValueError, match=r"edge_cut must be in \[0, 1\)"):
        EdgeFilter(model=FilterMLP(node_in=4), edge_cut=1.0)
