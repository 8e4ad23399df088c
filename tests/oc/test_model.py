"""The object-condensation GNN: output shapes and ranges, finite gradients through the OC loss."""

from __future__ import annotations

import pytest
import torch

from oc.model import CondensationGNN
from tests.ec.test_edge_classifier import tiny_graph_event
from tests.trackcore.nn.helpers import param_grads_ok
from trackcore.losses import condensation_loss


@pytest.mark.parametrize("edge_features", [False, True])
def test_shapes_ranges_and_finite_gradients(edge_features, single_thread):
    torch.manual_seed(0)
    data = tiny_graph_event()
    model = CondensationGNN(node_in=data.x.shape[1], cluster_dim=5, hidden_dim=16, n_iterations=2,
                            edge_features=edge_features)
    out = model(data.x, data.edge_index)
    assert out.beta.shape == (data.num_nodes,) and out.coords.shape == (data.num_nodes, 5)
    assert ((out.beta > 0) & (out.beta < 1)).all()
    loss = condensation_loss(out.beta, out.coords, data.particle_id)
    loss.total.backward()
    assert torch.isfinite(loss.total) and param_grads_ok(model, nonzero=False) == []
