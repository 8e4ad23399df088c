from __future__ import annotations

import pytest
import torch

from tests.trackcore.nn.helpers import param_grads_ok, random_graph
from trackcore.nn import EdgeClassifierHead, InteractionNetwork


@pytest.mark.parametrize("n_edges", [0, 1, 90])
def test_one_logit_per_edge(n_edges: int) -> None:
    torch.manual_seed(0)
    x, edge_index = random_graph(n_features=6)
    head = EdgeClassifierHead(node_dim=6, edge_dim=3, hidden_dim=16)
    logits = head(x, edge_index[:, :n_edges], torch.randn(n_edges, 3))
    assert logits.shape == (n_edges,)


def test_edge_only_head_ignores_nodes() -> None:
    torch.manual_seed(0)
    x, edge_index = random_graph(n_features=4)
    edge_attr = torch.randn(90, 4)
    edge_only, full = EdgeClassifierHead(node_dim=4, use_node_features=False), EdgeClassifierHead(node_dim=4)
    assert edge_only.mlp.in_dim == 4 and full.mlp.in_dim == 12
    torch.testing.assert_close(edge_only(x, edge_index, edge_attr), edge_only(x + 1, edge_index, edge_attr))
    assert not torch.allclose(full(x, edge_index, edge_attr), full(x + 1, edge_index, edge_attr))


def test_head_is_oriented() -> None:
    # [h_src, h_dst, e] is not symmetric: reversing an edge changes its logit.
    torch.manual_seed(0)
    x, edge_index = random_graph(n_features=4)
    edge_attr = torch.randn(90, 4)
    head = EdgeClassifierHead(node_dim=4)
    assert not torch.allclose(head(x, edge_index, edge_attr), head(x, edge_index.flip(0), edge_attr))


def test_every_parameter_gets_a_finite_nonzero_gradient() -> None:
    torch.manual_seed(0)
    x, edge_index = random_graph(n_features=4)
    head = EdgeClassifierHead(node_dim=4, edge_dim=2, dropout=0.1)
    target = (torch.rand(90) > 0.5).float()
    torch.nn.functional.binary_cross_entropy_with_logits(head(x, edge_index, torch.randn(90, 2)), target).backward()
    assert param_grads_ok(head, nonzero=True) == []


def test_bad_inputs_raise() -> None:
    x, edge_index = random_graph(n_features=4)
    head = EdgeClassifierHead(node_dim=4, edge_dim=2)
    with pytest.raises(ValueError, match=r"'edge_attr' to have shape \(E, 2\) \(got \(90, 4\)\)"):
        head(x, edge_index, torch.randn(90, 4))
    with pytest.raises(ValueError, match=r"'x' to have shape \(N, 4\) \(got \(30, 3\)\)"):
        head(x[:, :3], edge_index, torch.randn(90, 2))
    with pytest.raises(ValueError, match=r"'edge_index' to have shape \(2, 89\), one column per edge"):
        head(x, edge_index, torch.randn(89, 2))
    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        EdgeClassifierHead(node_dim=4, activation="swish")


def sign_graph(seed: int, n_nodes: int = 50, n_edges: int = 200) -> tuple[torch.Tensor, ...]:
    """Random 3-d points and edges, an edge true when its endpoints' first features have one sign."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_nodes, 3, generator=gen)
    edge_index = torch.randint(0, n_nodes, (2, n_edges), generator=gen)
    sign = x[:, 0] > 0
    return x, edge_index, (sign[edge_index[0]] == sign[edge_index[1]]).float()


def test_interaction_network_learns_edge_labels() -> None:
    # A fresh small graph every step, scored on a larger unseen one: learning the rule, not memorising a graph.
    torch.manual_seed(0)
    n_steps = 200
    gnn = InteractionNetwork(node_in=3, hidden_dim=32, n_iterations=2)
    head = EdgeClassifierHead(node_dim=32, hidden_dim=32)
    optimizer = torch.optim.Adam([*gnn.parameters(), *head.parameters()], lr=1e-2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, n_steps)
    for step in range(n_steps):
        x, edge_index, y = sign_graph(seed=100 + step)
        optimizer.zero_grad()
        out = gnn(x, edge_index)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(head(out.node, edge_index, out.edge), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
    x, edge_index, y = sign_graph(seed=1, n_nodes=500, n_edges=2000)
    with torch.no_grad():
        out = gnn(x, edge_index)
        accuracy = ((head(out.node, edge_index, out.edge) > 0).float() == y).float().mean().item()
    assert 0.3 < y.mean() < 0.7  # both classes well represented, so accuracy > 0.95 is not a majority vote
    assert accuracy > 0.95
