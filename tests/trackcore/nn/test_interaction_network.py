from __future__ import annotations

import pytest
import torch

from tests.trackcore.nn.helpers import param_grads_ok, random_graph
from trackcore.nn import InteractionNetwork, InteractionNetworkOutput

HIDDEN = 8


def small_network(**kwargs) -> InteractionNetwork:
    torch.manual_seed(0)
    config = {"node_in": 5, "hidden_dim": HIDDEN, "n_iterations": 3, "aggrs": ("sum", "mean", "max", "min", "std")}
    return InteractionNetwork(**(config | kwargs))


def weighted_sum(out: InteractionNetworkOutput) -> torch.Tensor:
    """A loss that every state feeds (a plain sum of LayerNorm outputs would have zero gradient)."""
    gen = torch.Generator().manual_seed(3)
    w_node, w_edge = torch.randn(HIDDEN, generator=gen), torch.randn(HIDDEN, generator=gen)
    return (out.node * w_node).sum() + (out.edge * w_edge).sum()


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("share_weights", [True, False])
@pytest.mark.parametrize("residual", [True, False])
def test_shapes(bidirectional: bool, share_weights: bool, residual: bool) -> None:
    x, edge_index = random_graph()
    net = small_network(bidirectional=bidirectional, share_weights=share_weights, residual=residual)
    out = net(x, edge_index)
    assert isinstance(out, InteractionNetworkOutput)
    assert out.node.shape == (30, HIDDEN) and out.edge.shape == (90, HIDDEN)


def test_shapes_with_edge_features() -> None:
    x, edge_index = random_graph()
    edge_attr = torch.randn(90, 2, generator=torch.Generator().manual_seed(1))
    out = small_network(edge_in=2)(x, edge_index, edge_attr)
    assert out.node.shape == (30, HIDDEN) and out.edge.shape == (90, HIDDEN)


@pytest.mark.parametrize("edge_in", [0, 2])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_every_parameter_gets_a_finite_nonzero_gradient(edge_in: int, bidirectional: bool) -> None:
    x, edge_index = random_graph()  # the last 4 nodes are isolated
    edge_attr = torch.randn(90, 2, generator=torch.Generator().manual_seed(1)) if edge_in else None
    net = small_network(edge_in=edge_in, bidirectional=bidirectional, dropout=0.1)
    weighted_sum(net(x, edge_index, edge_attr)).backward()
    assert param_grads_ok(net, nonzero=True) == []


def test_empty_edge_set_gives_finite_gradients() -> None:
    x, _ = random_graph()
    net = small_network()
    out = net(x, torch.zeros(2, 0, dtype=torch.long))
    assert out.node.shape == (30, HIDDEN) and out.edge.shape == (0, HIDDEN)
    weighted_sum(out).backward()
    assert param_grads_ok(net, nonzero=False) == []
    assert param_grads_ok(net.node_encoder, nonzero=True) == []


# In float64: float32 matmuls round differently by row position, and std of near-equal messages amplifies it.
def test_node_permutation_equivariance() -> None:
    x, edge_index = random_graph()
    x = x.double()
    net = small_network().double().eval()
    perm = torch.randperm(30, generator=torch.Generator().manual_seed(5))  # new node i is old node perm[i]
    relabel = torch.argsort(perm)  # old index -> new index
    out, out_perm = net(x, edge_index), net(x[perm], relabel[edge_index])
    torch.testing.assert_close(out_perm.node, out.node[perm], atol=1e-5, rtol=0)
    torch.testing.assert_close(out_perm.edge, out.edge, atol=1e-5, rtol=0)


def test_edge_permutation_equivariance() -> None:
    x, edge_index = random_graph()
    x, edge_attr = x.double(), torch.randn(90, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    net = small_network(edge_in=2).double().eval()
    perm = torch.randperm(90, generator=torch.Generator().manual_seed(6))
    out, out_perm = net(x, edge_index, edge_attr), net(x, edge_index[:, perm], edge_attr[perm])
    torch.testing.assert_close(out_perm.node, out.node, atol=1e-5, rtol=0)
    torch.testing.assert_close(out_perm.edge, out.edge[perm], atol=1e-5, rtol=0)


def test_direction_matters_only_when_not_bidirectional() -> None:
    # Node 0 only sends (0 -> 1 -> 2); a change at node 2 reaches node 0 only over outgoing messages.
    edge_index = torch.tensor([[0, 1], [1, 2]])
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(2))
    x_changed = x.clone()
    x_changed[2] += 1.0
    for bidirectional, reaches in ((False, False), (True, True)):
        net = small_network(bidirectional=bidirectional).eval()
        changed = not torch.allclose(net(x, edge_index).node[0], net(x_changed, edge_index).node[0])
        assert changed == reaches


def test_share_weights_parameter_count() -> None:
    # hidden 8, 2-layer MLPs: edge net Linear(24, 8) + LN + Linear(8, 8) + LN = 200 + 16 + 72 + 16 = 304;
    # node net (sum, max; both directions) Linear(40, 8) + LN + Linear(8, 8) + LN = 328 + 16 + 72 + 16 = 432.
    per_iteration = 304 + 432
    shared = small_network(n_iterations=4, aggrs=("sum", "max"), share_weights=True)
    separate = small_network(n_iterations=4, aggrs=("sum", "max"), share_weights=False)
    n_shared, n_separate = (sum(p.numel() for p in net.parameters()) for net in (shared, separate))
    assert len(shared.edge_networks) == len(shared.node_networks) == 1
    assert len(separate.edge_networks) == len(separate.node_networks) == 4
    assert n_separate - n_shared == 3 * per_iteration
    encoders = sum(p.numel() for m in (shared.node_encoder, shared.edge_encoder) for p in m.parameters())
    assert n_shared == encoders + per_iteration


def test_checkpoint_gives_same_outputs_and_gradients() -> None:
    x, edge_index = random_graph()
    plain, ckpt = small_network(), small_network(checkpoint=True)
    ckpt.load_state_dict(plain.state_dict())
    outs, n_saved = [], []
    for net in (plain, ckpt):
        saved = []

        def pack(t: torch.Tensor, saved: list = saved) -> torch.Tensor:
            saved.append(t)
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = net(x, edge_index)
        weighted_sum(out).backward()
        outs.append(out)
        n_saved.append(len(saved))
    assert n_saved[1] < n_saved[0] / 2  # the iterations' activations are recomputed, not kept
    torch.testing.assert_close(outs[1].node, outs[0].node, rtol=0, atol=0)
    torch.testing.assert_close(outs[1].edge, outs[0].edge, rtol=0, atol=0)
    grads = [{n: p.grad for n, p in net.named_parameters()} for net in (plain, ckpt)]
    assert grads[0].keys() == grads[1].keys()
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, msg=name)
    with torch.no_grad():
        torch.testing.assert_close(ckpt(x, edge_index).node, outs[0].node)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_iterations": 0}, "'n_iterations' to be a positive int"),
        ({"aggrs": ("sum", "median")}, "Unknown aggregation 'median'"),
        ({"aggrs": ()}, "at least one aggregation"),
        ({"activation": "swish"}, "Unknown activation 'swish'"),
        ({"edge_in": -1}, "'edge_in' to be a non-negative int"),
        ({"hidden_dim": 0}, "'out_dim' to be a positive int"),
    ],
)
def test_bad_config_raises(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        small_network(**kwargs)


def test_bad_inputs_raise() -> None:
    x, edge_index = random_graph()
    net, net_e = small_network(), small_network(edge_in=2)
    with pytest.raises(ValueError, match=r"'x' to have shape \(N, 5\) \(got \(30, 4\)\)"):
        net(x[:, :4], edge_index)
    with pytest.raises(ValueError, match=r"'edge_index' to have shape \(2, E\)"):
        net(x, edge_index.T)
    with pytest.raises(ValueError, match="torch.int64"):
        net(x, edge_index.int())
    with pytest.raises(ValueError, match="built with edge_in=0"):
        net(x, edge_index, torch.randn(90, 2))
    with pytest.raises(ValueError, match=r"'edge_attr' of shape \(E, 2\) since edge_in=2"):
        net_e(x, edge_index)
    with pytest.raises(ValueError, match=r"'edge_attr' to have shape \(90, 2\) \(got \(90, 3\)\)"):
        net_e(x, edge_index, torch.randn(90, 3))
    with pytest.raises(ValueError, match=r"'edge_attr' to have shape \(90, 2\) \(got \(89, 2\)\)"):
        net_e(x, edge_index, torch.randn(89, 2))


def test_output_validates_shapes() -> None:
    with pytest.raises(ValueError, match="Expected 'edge' to be two-dimensional"):
        InteractionNetworkOutput(node=torch.zeros(3, 2), edge=torch.zeros(4))


@pytest.mark.parametrize("bidirectional", [True, False])
def test_inference_without_gradients_is_the_same(bidirectional: bool) -> None:
    # without gradients the CPU path aggregates sums by sparse products and runs the MLPs in chunks
    x, edge_index = random_graph()
    net = small_network(bidirectional=bidirectional)
    expected = net(x, edge_index)
    with torch.inference_mode():
        got = net(x, edge_index)
    torch.testing.assert_close(got.node, expected.node.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got.edge, expected.edge.detach(), rtol=1e-5, atol=1e-5)
