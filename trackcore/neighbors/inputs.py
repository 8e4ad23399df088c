"""Checks on the arguments of ``knn_graph`` and ``radius_graph``, with messages that say what is wrong."""

from __future__ import annotations

import math
import numbers

import torch


def check_points(x: torch.Tensor, query: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Validate the database and optional queries; return them detached, as float32.

    Raises:
        TypeError: not a torch tensor.
        ValueError: not 2-D, not floating point, no feature dimension, dimensions differ, devices
            differ, or NaN/inf present.

    Shapes:
        x: ``(N, D)``; query: ``(M, D)`` or None.
    """
    x = _check_one("x", x)
    if query is None:
        return x, None
    query = _check_one("query", query)
    if query.size(1) != x.size(1):
        raise ValueError(
            f"'query' and 'x' must have the same number of dimensions (got query {tuple(query.shape)}, "
            f"x {tuple(x.shape)})"
        )
    if query.device != x.device:
        raise ValueError(f"'query' and 'x' must be on the same device (got {query.device} and {x.device})")
    return x, query


def _check_one(name: str, t: torch.Tensor) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"Expected '{name}' to be a torch.Tensor (got {type(t).__name__})")
    if t.dim() != 2:
        raise ValueError(f"Expected '{name}' to be two-dimensional, (num_points, dim) (got shape {tuple(t.shape)})")
    if not t.is_floating_point():
        raise ValueError(f"Expected '{name}' to be a floating-point tensor (got {t.dtype})")
    if t.size(1) == 0:
        raise ValueError(f"Expected '{name}' to have at least one feature dimension (got shape {tuple(t.shape)})")
    t = t.detach().to(torch.float32)
    if t.numel() and not bool(torch.isfinite(t).all()):
        bad = int((~torch.isfinite(t)).any(dim=1).sum())
        raise ValueError(f"'{name}' contains NaN or inf ({bad} of {t.size(0)} points)")
    return t


def check_positive_int(name: str, value: int) -> int:
    """``value`` as an int >= 1, else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"'{name}' must be an integer >= 1 (got {value!r})")
    return int(value)


def check_radius(r: float) -> float:
    """``r`` as a finite float > 0, else ValueError."""
    if isinstance(r, bool) or not isinstance(r, numbers.Real) or not math.isfinite(r) or r <= 0:
        raise ValueError(f"radius 'r' must be a finite number > 0 (got {r!r})")
    return float(r)
