from __future__ import annotations

import pytest
import torch
from torch import nn

from trackcore.nn import ACTIVATIONS, MLP, make_activation


@pytest.mark.parametrize("n_layers", [1, 2, 4])
def test_shapes_with_leading_dims(n_layers: int) -> None:
    torch.manual_seed(0)
    mlp = MLP(in_dim=5, out_dim=3, hidden_dim=16, n_layers=n_layers)
    assert mlp(torch.randn(7, 5)).shape == (7, 3)
    assert mlp(torch.randn(2, 7, 5)).shape == (2, 7, 3)
    assert mlp(torch.randn(0, 5)).shape == (0, 3)
    assert sum(isinstance(m, nn.Linear) for m in mlp.modules()) == n_layers


def test_layer_order() -> None:
    mlp = MLP(
        in_dim=4, out_dim=2, hidden_dim=8, n_layers=3, activation="tanh", dropout=0.1, output_activation="sigmoid"
    )
    kinds = [type(m) for m in mlp.layers]
    expected = [nn.Linear, nn.LayerNorm, nn.Tanh, nn.Dropout] * 2 + [nn.Linear, nn.Sigmoid]
    assert kinds == expected
    no_norm = MLP(in_dim=4, out_dim=2, n_layers=2, layer_norm=False, output_layer_norm=True, output_activation="relu")
    assert [type(m) for m in no_norm.layers] == [nn.Linear, nn.ReLU, nn.Linear, nn.LayerNorm, nn.ReLU]


def test_output_activation_bounds_output() -> None:
    torch.manual_seed(0)
    out = MLP(in_dim=3, out_dim=4, output_activation="sigmoid")(10 * torch.randn(50, 3))
    assert ((out > 0) & (out < 1)).all()


def test_dropout_only_in_training() -> None:
    torch.manual_seed(0)
    mlp = MLP(in_dim=3, out_dim=4, dropout=0.5)
    x = torch.randn(20, 3)
    assert not torch.equal(mlp(x), mlp(x))
    mlp.eval()
    assert torch.equal(mlp(x), mlp(x))


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_activation_builds(name: str) -> None:
    x = torch.linspace(-2, 2, 9)
    assert make_activation(name)(x).shape == x.shape
    assert MLP(in_dim=1, out_dim=1, activation=name, output_activation=name)(x[:, None]).shape == (9, 1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"activation": "swish"}, r"Unknown activation 'swish' \(expected one of \['gelu', 'leaky_relu'"),
        ({"activation": "swish", "n_layers": 1}, "Unknown activation 'swish'"),
        ({"output_activation": "softmax"}, "Unknown activation 'softmax'"),
        ({"n_layers": 0}, "'n_layers' to be a positive int"),
        ({"hidden_dim": 0}, "'hidden_dim' to be a positive int"),
        ({"dropout": 1.0}, r"'dropout' in \[0, 1\)"),
    ],
)
def test_bad_config_raises(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MLP(in_dim=3, out_dim=2, **kwargs)


def test_wrong_input_width_raises() -> None:
    with pytest.raises(ValueError, match=r"Expected input with 3 features .* \(got \(4, 5\)\)"):
        MLP(in_dim=3, out_dim=2)(torch.randn(4, 5))


def test_forward_gathered_equals_mlp_of_the_concatenation():
    import torch

    from trackcore.nn.mlp import MLP

    torch.manual_seed(0)
    mlp = MLP(in_dim=3 * 8 + 5, out_dim=6, hidden_dim=16, n_layers=2, activation="silu", output_layer_norm=True)
    node, tail = torch.randn(20, 8, requires_grad=True), torch.randn(50, 5)
    src, dst = torch.randint(0, 20, (50,)), torch.randint(0, 20, (50,))
    expected = mlp(torch.cat([node[src], node[dst], node[src], tail], dim=1))
    got = mlp.forward_gathered(node, (src, dst, src), tail)
    assert torch.allclose(got, expected, atol=1e-5)
    (grad_got,) = torch.autograd.grad(got.sum(), node)
    (grad_expected,) = torch.autograd.grad(expected.sum(), node)
    assert torch.allclose(grad_got, grad_expected, atol=1e-5)
    no_tail = MLP(in_dim=16, out_dim=4, hidden_dim=8)
    bias = no_tail.layers[0].bias.detach().clone()
    assert torch.allclose(no_tail.forward_gathered(node, (src, dst)), no_tail(torch.cat([node[src], node[dst]], 1)),
                          atol=1e-5)
    assert torch.equal(no_tail.layers[0].bias, bias)  # the in-place adds never touch the parameter
    with pytest.raises(ValueError, match="gathered inputs with 29 features"):
        mlp.forward_gathered(node, (src, dst), tail)


@pytest.mark.parametrize("chunk_size", [1, 7, 50, 64, None])
def test_forward_gathered_in_chunks_without_gradients_is_the_same(chunk_size):
    import torch

    from trackcore.nn.mlp import MLP, gather_chunk_size

    torch.manual_seed(1)
    mlp = MLP(in_dim=2 * 8 + 8, out_dim=8, hidden_dim=16, n_layers=2, activation="silu",
              output_activation="silu", output_layer_norm=True)
    node, edge = torch.randn(20, 8), torch.randn(50, 8)
    src, dst = torch.randint(0, 20, (50,)), torch.randint(0, 20, (50,))
    expected = edge + mlp(torch.cat([node[src], node[dst], edge], dim=1))
    with torch.no_grad():
        got = mlp.forward_gathered(node, (src, dst), edge, residual=edge, chunk_size=chunk_size)
    assert torch.allclose(got, expected, atol=1e-5)
    with_grad = mlp.forward_gathered(node, (src, dst), edge, residual=edge, chunk_size=chunk_size)
    assert with_grad.requires_grad and torch.allclose(with_grad, expected, atol=1e-5)
    assert gather_chunk_size(64) == 16384 and gather_chunk_size(1 << 20) == 256
    with pytest.raises(ValueError, match="'chunk_size' >= 1"):
        mlp.forward_gathered(node, (src, dst), edge, chunk_size=0)


@pytest.mark.parametrize("chunk_size", [1, 7, 50, None])
def test_forward_in_chunks_without_gradients_is_the_same(chunk_size):
    import torch

    from trackcore.nn.mlp import MLP

    torch.manual_seed(2)
    mlp = MLP(in_dim=6, out_dim=8, hidden_dim=16, n_layers=2, activation="silu", output_activation="silu",
              output_layer_norm=True)
    x = torch.randn(50, 6)
    expected = mlp.layers(x)
    with torch.no_grad():
        got = mlp(x, chunk_size=chunk_size)
        assert mlp(x[:3].reshape(1, 3, 6), chunk_size=1).shape == (1, 3, 8)  # not 2-D: one pass
    assert not got.requires_grad and torch.allclose(got, expected, atol=1e-5)
    with_grad = mlp(x, chunk_size=chunk_size)
    assert with_grad.requires_grad and torch.allclose(with_grad, expected, atol=1e-5)
    with pytest.raises(ValueError, match="'chunk_size' >= 1"), torch.no_grad():
        mlp(x, chunk_size=0)
