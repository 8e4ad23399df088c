"""Edge-classification losses on logits: weighted binary cross-entropy and the focal loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from trackcore.losses.inputs import check_number, check_per_pair, check_reduction, check_tensor, check_weight, reduce


def _check_edges(logits_e: torch.Tensor, y_e: torch.Tensor) -> torch.Tensor:
    """Validate logits and targets; return the targets as a float tensor of the logits' dtype."""
    check_tensor("logits_e", logits_e, dim=1)
    if not logits_e.is_floating_point():
        raise ValueError(f"Expected 'logits_e' to be a floating-point tensor (got {logits_e.dtype})")
    check_per_pair("y_e", y_e, logits_e.numel(), device=logits_e.device)
    if y_e.dtype != torch.bool and y_e.numel() and not bool(((y_e >= 0) & (y_e <= 1)).all()):
        raise ValueError("Expected 'y_e' to be bool or hold targets in [0, 1]")
    return y_e.to(logits_e.dtype)


def weighted_bce_with_logits(
    logits_e: torch.Tensor,
    y_e: torch.Tensor,
    *,
    pos_weight: float = 1.0,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Binary cross-entropy on edge logits with true edges up-weighted (Exa.TrkX: ``pos_weight`` ~ 2)::

        l_e = -w_e [pos_weight y_e log sigmoid(z_e) + (1 - y_e) log(1 - sigmoid(z_e))]

    Equal to ``torch.nn.functional.binary_cross_entropy_with_logits`` with these weights, except that the
    mean over no edges is 0 (still attached to the graph) instead of NaN.

    Args:
        logits_e: edge scores before the sigmoid.
        y_e: edge truth, bool or targets in [0, 1].
        pos_weight: factor on the true-edge term, > 0.
        weight: per-edge weight (e.g. pT weights), finite and >= 0; None for 1.
        reduction: ``"mean"`` (over edges), ``"sum"`` or ``"none"``.

    Shapes:
        logits_e, y_e, weight: ``(E,)``; output: scalar, or ``(E,)`` with ``reduction="none"``.
    """
    target = _check_edges(logits_e, y_e)
    pos_weight = check_number("pos_weight", pos_weight, low=0.0, low_inclusive=False)
    weight = check_weight(weight, logits_e.numel(), device=logits_e.device)
    reduction = check_reduction(reduction)
    loss = F.binary_cross_entropy_with_logits(
        logits_e, target, weight=weight, pos_weight=logits_e.new_tensor(pos_weight), reduction="none"
    )
    return reduce(loss, reduction)


def focal_loss_with_logits(
    logits_e: torch.Tensor,
    y_e: torch.Tensor,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss on edge logits (Lin et al., arXiv:1708.02002): easy edges count less::

        p_t = p y + (1 - p)(1 - y),   alpha_t = alpha y + (1 - alpha)(1 - y),
        l_e = -w_e alpha_t (1 - p_t)^gamma log(p_t)

    with ``p = sigmoid(z)``; ``gamma = 0`` and ``alpha = None`` give the plain BCE, ``alpha = 0.5`` half of
    it. As in torchvision's ``sigmoid_focal_loss``, ``log(p_t)`` is the BCE term (stable for any logit).

    Args:
        logits_e: edge scores before the sigmoid.
        y_e: edge truth, bool or targets in [0, 1].
        alpha: weight of true edges in [0, 1] (false edges get ``1 - alpha``); None for no class weight.
        gamma: focusing exponent, >= 0.
        weight: per-edge weight, finite and >= 0; None for 1.
        reduction: ``"mean"`` (over edges), ``"sum"`` or ``"none"``.

    Shapes:
        logits_e, y_e, weight: ``(E,)``; output: scalar, or ``(E,)`` with ``reduction="none"``.
    """
    target = _check_edges(logits_e, y_e)
    if alpha is not None:
        alpha = check_number("alpha", alpha, low=0.0, high=1.0)
    gamma = check_number("gamma", gamma, low=0.0)
    weight = check_weight(weight, logits_e.numel(), device=logits_e.device)
    reduction = check_reduction(reduction)

    loss = F.binary_cross_entropy_with_logits(logits_e, target, reduction="none")
    if gamma != 0.0:
        p = torch.sigmoid(logits_e)
        p_t = p * target + (1 - p) * (1 - target)
        # A saturated sigmoid gives 1 - p_t == 0, where (.)^gamma has an infinite slope for gamma < 1.
        loss = loss * (1 - p_t).clamp_min(torch.finfo(p_t.dtype).tiny).pow(gamma)
    if alpha is not None:
        loss = loss * (alpha * target + (1 - alpha) * (1 - target))
    if weight is not None:
        loss = loss * weight
    return reduce(loss, reduction)
