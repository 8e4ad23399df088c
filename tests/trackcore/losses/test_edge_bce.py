from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from trackcore.losses import focal_loss_with_logits, weighted_bce_with_logits


@pytest.fixture
def edges() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(300, generator=gen, dtype=torch.float64) * 3
    y = torch.rand(300, generator=gen) < 0.4
    w = torch.rand(300, generator=gen, dtype=torch.float64) + 0.5
    return logits, y, w


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_matches_torch_reference(edges: tuple[torch.Tensor, ...], reduction: str) -> None:
    logits, y, w = edges
    ref = F.binary_cross_entropy_with_logits(
        logits, y.double(), weight=w, pos_weight=torch.tensor(2.0, dtype=torch.float64), reduction=reduction
    )
    got = weighted_bce_with_logits(logits, y, pos_weight=2.0, weight=w, reduction=reduction)
    assert torch.allclose(got, ref, atol=1e-12)


def test_bce_pinned_values() -> None:
    # logit 0: -log(1/2) = ln 2 per edge; the true edge counts pos_weight = 3 times
    loss = weighted_bce_with_logits(torch.zeros(2), torch.tensor([True, False]), pos_weight=3.0, reduction="none")
    assert loss.tolist() == pytest.approx([3 * math.log(2), math.log(2)], rel=1e-6)


def test_bce_no_edges_give_zero() -> None:
    logits = torch.empty(0, requires_grad=True)
    loss = weighted_bce_with_logits(logits, torch.empty(0, dtype=torch.bool))
    assert loss.item() == 0.0 and loss.requires_grad


@pytest.mark.parametrize(("alpha", "scale"), [(None, 1.0), (0.5, 0.5)])
def test_focal_gamma0_is_scaled_bce(edges: tuple[torch.Tensor, ...], alpha: float | None, scale: float) -> None:
    logits, y, _ = edges
    focal = focal_loss_with_logits(logits, y, alpha=alpha, gamma=0.0, reduction="none")
    assert torch.allclose(focal, scale * F.binary_cross_entropy_with_logits(logits, y.double(), reduction="none"))


def test_focal_pinned_values() -> None:
    # logit 0: p = 1/2, so p_t = 1/2, (1 - p_t)^2 = 1/4, ce = ln 2; alpha_t = 0.25 (true) or 0.75 (false)
    loss = focal_loss_with_logits(torch.zeros(2), torch.tensor([1.0, 0.0]), reduction="none")
    assert loss.tolist() == pytest.approx([0.25 * 0.25 * math.log(2), 0.75 * 0.25 * math.log(2)], rel=1e-6)
    # logit ln 3 on a true edge: p = 3/4, (1 - p_t)^2 = 1/16, ce = ln(4/3)
    one = focal_loss_with_logits(torch.tensor([math.log(3)]), torch.tensor([True]), alpha=None)
    assert one.item() == pytest.approx(math.log(4 / 3) / 16, rel=1e-6)


def test_focal_down_weights_easy_edges(edges: tuple[torch.Tensor, ...]) -> None:
    logits, y, _ = edges
    ratio = focal_loss_with_logits(logits, y, alpha=None, reduction="none") / F.binary_cross_entropy_with_logits(
        logits, y.double(), reduction="none"
    )
    p_t = torch.where(y, torch.sigmoid(logits), 1 - torch.sigmoid(logits))
    assert torch.allclose(ratio, (1 - p_t) ** 2)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_gradient_finite_when_saturated(gamma: float) -> None:
    logits = torch.tensor([40.0, -40.0, 0.0], requires_grad=True)
    loss = focal_loss_with_logits(logits, torch.tensor([1.0, 0.0, 1.0]), gamma=gamma)
    loss.backward()
    assert torch.isfinite(loss) and bool(torch.isfinite(logits.grad).all())


def test_rejects_bad_input() -> None:
    logits = torch.zeros(3)
    y = torch.tensor([1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="one entry per pair/edge"):
        weighted_bce_with_logits(logits, y[:2])
    with pytest.raises(ValueError, match="pos_weight"):
        weighted_bce_with_logits(logits, y, pos_weight=0.0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        weighted_bce_with_logits(logits, torch.tensor([2.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="floating-point"):
        weighted_bce_with_logits(torch.zeros(3, dtype=torch.int64), y)
    with pytest.raises(ValueError, match="1-dimensional"):
        focal_loss_with_logits(logits[None], y[None])
    with pytest.raises(ValueError, match="alpha"):
        focal_loss_with_logits(logits, y, alpha=1.5)
    with pytest.raises(ValueError, match="gamma"):
        focal_loss_with_logits(logits, y, gamma=-1.0)
