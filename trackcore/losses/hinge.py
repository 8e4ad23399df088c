"""Hinge loss on embedding distances, the metric-learning loss of Exa.TrkX/acorn and EggNet."""

from __future__ import annotations

import torch

from trackcore.losses.inputs import (
    check_binary_labels,
    check_number,
    check_pairs,
    check_per_pair,
    check_reduction,
    check_tensor,
    check_weight,
    reduce,
)

# Inside the square root only: keeps d(d)/dx finite (zero) for coincident points and shifts d by 1e-6.
_EPS = 1e-12


def hinge_embedding_loss(
    x_j: torch.Tensor,
    pairs: torch.Tensor,
    y: torch.Tensor,
    *,
    margin: float = 1.0,
    squared: bool = False,
    weight: torch.Tensor | None = None,
    balance: bool = False,
    reduction: str = "mean",
) -> torch.Tensor:
    """Pull same-particle pairs together, push other pairs beyond ``margin`` (Hadsell et al. 2006).

    With ``d = |x_a - x_b|`` (Euclidean, an ``eps = 1e-12`` inside the square root keeps the gradient
    finite at ``d = 0``), each pair contributes::

        squared=False:  d                       if y  else  max(0, margin - d)       (acorn)
        squared=True:   d^2                     if y  else  max(0, margin - d)^2     (EggNet)

    times its ``weight`` (e.g. :func:`trackcore.losses.pt_weight` of the particle). ``d^2`` for positives
    is computed without the ``eps``.

    Reduction: ``"mean"`` is the mean of the weighted terms over all pairs (weights rescale terms, they
    do not renormalise, as in ``torch.nn.functional.binary_cross_entropy``). With ``balance=True``
    positives and negatives are averaged separately and the two means summed (acorn), so the abundant
    negatives do not drown the positives; an empty class contributes 0. ``"sum"`` sums the weighted terms,
    ``"none"`` returns them. No pairs give a mean of 0, still attached to the graph.

    Args:
        x_j: embedding of every hit.
        pairs: indices of the pairs into ``x_j`` (order within a pair does not matter).
        y: True (or 1) for same-particle pairs, see :func:`trackcore.losses.pair_labels`.
        margin: distance beyond which a negative pair costs nothing, > 0.
        squared: squared hinge (EggNet) instead of the linear one.
        weight: per-pair weight, finite and >= 0; None for 1.
        balance: mean over positives plus mean over negatives (only with ``reduction="mean"``).
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.

    Returns:
        A scalar, or the ``(P,)`` per-pair terms with ``reduction="none"``.

    Shapes:
        x_j: ``(N, D)`` float; pairs: ``(2, P)`` integer; y: ``(P,)`` bool or 0/1; weight: ``(P,)``.
    """
    check_tensor("x_j", x_j, dim=2)
    if not x_j.is_floating_point():
        raise ValueError(f"Expected 'x_j' to be a floating-point tensor (got {x_j.dtype})")
    pairs = check_pairs(pairs, x_j.size(0))
    if pairs.device != x_j.device:
        raise ValueError(f"Expected 'pairs' and 'x_j' on one device (got {pairs.device} and {x_j.device})")
    num = pairs.size(1)
    y = check_binary_labels("y", check_per_pair("y", y, num, device=x_j.device))
    weight = check_weight(weight, num, device=x_j.device)
    margin = check_number("margin", margin, low=0.0, low_inclusive=False)
    reduction = check_reduction(reduction)
    if balance and reduction != "mean":
        raise ValueError(
            f"balance=True averages positives and negatives separately: needs reduction='mean' (got {reduction!r})"
        )

    diff = x_j.index_select(0, pairs[0]) - x_j.index_select(0, pairs[1])
    d2 = diff.pow(2).sum(dim=-1)
    d = torch.sqrt(d2 + _EPS)
    push = torch.clamp(margin - d, min=0.0)
    loss = torch.where(y, d2, push.pow(2)) if squared else torch.where(y, d, push)
    if weight is not None:
        loss = loss * weight
    if not balance:
        return reduce(loss, reduction)
    return reduce(loss[y], "mean") + reduce(loss[~y], "mean")
