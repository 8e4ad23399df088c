"""Checks shared by the losses and pair samplers, with messages that say what is wrong."""

from __future__ import annotations

import math
import numbers

import torch

REDUCTIONS = ("mean", "sum", "none")


def check_tensor(name: str, t: torch.Tensor, *, dim: int) -> torch.Tensor:
    """``t`` if it is a torch tensor with ``dim`` dimensions, else TypeError / ValueError naming ``name``."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"Expected '{name}' to be a torch.Tensor (got {type(t).__name__})")
    if t.dim() != dim:
        raise ValueError(f"Expected '{name}' to be {dim}-dimensional (got shape {tuple(t.shape)})")
    return t


def check_particle_id(particle_id_j: torch.Tensor) -> torch.Tensor:
    """A 1-D integer tensor of particle ids (0 for noise), as int64.

    Shapes:
        particle_id_j: ``(N,)``.
    """
    check_tensor("particle_id_j", particle_id_j, dim=1)
    if particle_id_j.is_floating_point() or particle_id_j.is_complex() or particle_id_j.dtype == torch.bool:
        raise ValueError(f"Expected 'particle_id_j' to be an integer tensor (got {particle_id_j.dtype})")
    return particle_id_j.long()


def check_pairs(pairs: torch.Tensor, num_nodes: int | None, *, name: str = "pairs") -> torch.Tensor:
    """A ``(2, P)`` integer tensor of node indices in ``[0, num_nodes)`` (``>= 0`` when None), as int64.

    Raises:
        TypeError: not a tensor.
        ValueError: wrong shape, not integer, or an index outside ``[0, num_nodes)``.
    """
    if not isinstance(pairs, torch.Tensor):
        raise TypeError(f"Expected '{name}' to be a torch.Tensor (got {type(pairs).__name__})")
    if pairs.dim() != 2 or pairs.size(0) != 2:
        raise ValueError(f"Expected '{name}' to have shape (2, P) (got {tuple(pairs.shape)})")
    if pairs.is_floating_point() or pairs.is_complex() or pairs.dtype == torch.bool:
        raise ValueError(f"Expected '{name}' to be an integer tensor (got {pairs.dtype})")
    pairs = pairs.long()
    if pairs.numel():
        lo, hi = int(pairs.min()), int(pairs.max())
        if lo < 0 or (num_nodes is not None and hi >= num_nodes):
            bound = "non-negative node indices" if num_nodes is None else f"node indices in [0, {num_nodes})"
            raise ValueError(f"Expected '{name}' to hold {bound} (got values in [{lo}, {hi}])")
    return pairs


def check_per_pair(name: str, t: torch.Tensor, num: int, *, device: torch.device) -> torch.Tensor:
    """A 1-D tensor with one entry per pair/edge, on ``device``."""
    check_tensor(name, t, dim=1)
    if t.numel() != num:
        raise ValueError(f"Expected '{name}' to hold one entry per pair/edge ({num}, got {t.numel()})")
    if t.device != device:
        raise ValueError(f"Expected '{name}' on {device} (got {t.device})")
    return t


def check_binary_labels(name: str, y: torch.Tensor) -> torch.Tensor:
    """``y`` as a bool tensor; bool, or integer/float holding only 0 and 1."""
    if y.dtype == torch.bool:
        return y
    if y.numel() and not bool(((y == 0) | (y == 1)).all()):
        raise ValueError(f"Expected '{name}' to be bool or hold only 0 and 1 (got {y.dtype} with other values)")
    return y != 0


def check_weight(weight: torch.Tensor | None, num: int, *, device: torch.device) -> torch.Tensor | None:
    """Optional per-pair/per-edge weights: finite, >= 0, floating point."""
    if weight is None:
        return None
    check_per_pair("weight", weight, num, device=device)
    if not weight.is_floating_point():
        raise ValueError(f"Expected 'weight' to be a floating-point tensor (got {weight.dtype})")
    if weight.numel() and not bool((torch.isfinite(weight) & (weight >= 0)).all()):
        raise ValueError("Expected 'weight' to be finite and >= 0")
    return weight


def check_number(name: str, value: float, *, low: float, low_inclusive: bool = True, high: float = math.inf) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` when not ``low_inclusive``)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= low if low_inclusive else value > low) and value <= high
    if not ok:
        bound = f"{'>=' if low_inclusive else '>'} {low}" + ("" if math.isinf(high) else f" and <= {high}")
        raise ValueError(f"Expected '{name}' to be a finite number {bound} (got {value!r})")
    return float(value)


def check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"Expected 'reduction' to be one of {REDUCTIONS} (got {reduction!r})")
    return reduction


def reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Mean (0 for no elements, still attached to the graph), sum, or the unreduced tensor."""
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total / max(loss.numel(), 1)
