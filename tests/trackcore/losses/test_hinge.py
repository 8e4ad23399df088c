from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from trackcore.losses import hinge_embedding_loss

# Three points on a line, 0, 0.5 and 0.8: pair (0, 1) same particle at d = 0.5, pairs (0, 2) and
# (1, 2) different particles at d = 0.8 and 0.3.
X = torch.tensor([[0.0], [0.5], [0.8]])
PAIRS = torch.tensor([[0, 0, 1], [1, 2, 2]])
Y = torch.tensor([True, False, False])


@pytest.mark.parametrize(
    ("squared", "balance", "margin", "expected"),
    [
        # positive d; negatives max(0, 1 - d) = 0.2 and 0.7
        (False, False, 1.0, (0.5 + 0.2 + 0.7) / 3),
        (False, True, 1.0, 0.5 + (0.2 + 0.7) / 2),
        # positive d^2 = 0.25; negatives 0.2^2 = 0.04 and 0.7^2 = 0.49
        (True, False, 1.0, (0.25 + 0.04 + 0.49) / 3),
        (True, True, 1.0, 0.25 + (0.04 + 0.49) / 2),
        # margin 0.5: the negative at d = 0.8 is beyond it, the one at 0.3 gives 0.2
        (False, False, 0.5, (0.5 + 0.0 + 0.2) / 3),
        (True, True, 0.5, 0.25 + (0.0 + 0.04) / 2),
    ],
)
def test_pinned_values(squared: bool, balance: bool, margin: float, expected: float) -> None:
    loss = hinge_embedding_loss(X, PAIRS, Y, margin=margin, squared=squared, balance=balance)
    assert loss.shape == ()
    assert loss.item() == pytest.approx(expected, abs=1e-6)


def test_weights_sum_and_none() -> None:
    w = torch.tensor([2.0, 1.0, 0.5])
    terms = hinge_embedding_loss(X, PAIRS, Y, weight=w, reduction="none")
    assert terms.tolist() == pytest.approx([1.0, 0.2, 0.35], abs=1e-6)
    assert hinge_embedding_loss(X, PAIRS, Y, weight=w, reduction="sum").item() == pytest.approx(1.55, abs=1e-6)
    assert hinge_embedding_loss(X, PAIRS, Y, weight=w).item() == pytest.approx(1.55 / 3, abs=1e-6)
    # balance: weighted positive mean 1.0, weighted negative mean (0.2 + 0.35) / 2
    balanced = hinge_embedding_loss(X, PAIRS, Y.long(), weight=w, balance=True)
    assert balanced.item() == pytest.approx(1.0 + 0.275, abs=1e-6)


def test_pair_order_does_not_matter() -> None:
    a = hinge_embedding_loss(X, PAIRS, Y, squared=True, reduction="none")
    b = hinge_embedding_loss(X, PAIRS.flip(0), Y, squared=True, reduction="none")
    assert torch.allclose(a, b)


def test_matches_torch_hinge_embedding_loss() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(50, 8, generator=gen, dtype=torch.float64)
    pairs = torch.randint(0, 50, (2, 400), generator=gen)
    y = torch.rand(400, generator=gen) < 0.3
    d = (x[pairs[0]] - x[pairs[1]]).norm(dim=-1)
    ref = F.hinge_embedding_loss(d, y.double() * 2 - 1, margin=3.0)
    assert torch.allclose(hinge_embedding_loss(x, pairs, y, margin=3.0), ref, atol=1e-9)


@pytest.mark.parametrize("squared", [False, True])
def test_gradient_finite_at_zero_distance(squared: bool) -> None:
    x = torch.tensor([[0.3, -0.2], [0.3, -0.2], [1.0, 1.0]], requires_grad=True)
    pairs = torch.tensor([[0, 1, 0], [1, 0, 2]])
    y = torch.tensor([True, False, False])
    loss = hinge_embedding_loss(x, pairs, y, squared=squared, balance=True)
    loss.backward()
    assert torch.isfinite(loss) and bool(torch.isfinite(x.grad).all())
    # the coincident pair pulls and pushes along no direction: only the (0, 2) pair moves point 0
    assert x.grad[1].abs().max().item() == 0.0


def test_gradient_pulls_positives_and_pushes_negatives() -> None:
    x = X.clone().requires_grad_(True)
    hinge_embedding_loss(x, PAIRS[:, :2], Y[:2], reduction="sum").backward()
    # d(0,1) pulls point 1 down toward 0; the negative (0, 2) at 0.8 < margin pushes point 2 up
    assert x.grad[1, 0] > 0 and x.grad[2, 0] < 0


def test_no_pairs_give_zero_attached_to_graph() -> None:
    x = X.clone().requires_grad_(True)
    empty = torch.empty(2, 0, dtype=torch.int64)
    for balance in (False, True):
        loss = hinge_embedding_loss(x, empty, torch.empty(0, dtype=torch.bool), balance=balance)
        assert loss.item() == 0.0 and loss.requires_grad
    # balance with only positives: the empty negative mean adds 0
    only_pos = hinge_embedding_loss(X, PAIRS[:, :1], Y[:1], balance=True)
    assert only_pos.item() == pytest.approx(0.5, abs=1e-6)


def test_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match=r"shape \(2, P\)"):
        hinge_embedding_loss(X, torch.tensor([0, 1]), Y[:1])
    with pytest.raises(ValueError, match=r"shape \(2, P\)"):
        hinge_embedding_loss(X, torch.zeros(3, 3, dtype=torch.int64), Y)
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        hinge_embedding_loss(X, torch.tensor([[0], [3]]), Y[:1])
    with pytest.raises(ValueError, match="one entry per pair"):
        hinge_embedding_loss(X, PAIRS, Y[:2])
    with pytest.raises(ValueError, match="one entry per pair"):
        hinge_embedding_loss(X, PAIRS, Y, weight=torch.ones(4))
    with pytest.raises(ValueError, match="margin"):
        hinge_embedding_loss(X, PAIRS, Y, margin=-1.0)
    with pytest.raises(ValueError, match="only 0 and 1"):
        hinge_embedding_loss(X, PAIRS, torch.tensor([1, 2, 0]))
    with pytest.raises(ValueError, match=">= 0"):
        hinge_embedding_loss(X, PAIRS, Y, weight=torch.tensor([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match="reduction"):
        hinge_embedding_loss(X, PAIRS, Y, reduction="max")
    with pytest.raises(ValueError, match="balance"):
        hinge_embedding_loss(X, PAIRS, Y, balance=True, reduction="sum")
    with pytest.raises(ValueError, match="2-dimensional"):
        hinge_embedding_loss(X.flatten(), PAIRS, Y)
