"""Per-particle loss weight from transverse momentum: signal (high pT) particles count more."""

from __future__ import annotations

import torch

from trackcore.losses.inputs import check_number, check_tensor


def pt_weight(pt: torch.Tensor, *, pt_cut: float = 1.0, floor: float = 0.5, window: float = 0.5) -> torch.Tensor:
    """Weight rising linearly from ``floor`` at ``pt_cut - window`` to 1 at ``pt_cut`` (HGNN, acorn)::

        w = floor                                               pt <= pt_cut - window
        w = floor + (1 - floor) (pt - pt_cut + window) / window  in between
        w = 1                                                   pt >= pt_cut

    NaN and 0 (noise, or a particle without truth) get ``floor`` whatever the cut, as does a negative pT.
    ``window = 0`` is a step at ``pt_cut``. Index the result by hit or edge to weigh a loss.

    Args:
        pt: transverse momentum in GeV (of each hit's particle, or each particle).
        pt_cut: pT from which the weight is 1, >= 0.
        floor: weight of low-pT particles and noise, in [0, 1].
        window: width of the ramp below ``pt_cut``, >= 0.

    Shapes:
        pt: ``(N,)`` float; output: ``(N,)`` of the same dtype and device.
    """
    check_tensor("pt", pt, dim=1)
    if not pt.is_floating_point():
        raise ValueError(f"Expected 'pt' to be a floating-point tensor (got {pt.dtype})")
    pt_cut = check_number("pt_cut", pt_cut, low=0.0)
    floor = check_number("floor", floor, low=0.0, high=1.0)
    window = check_number("window", window, low=0.0)
    if window > 0:
        ramp = ((pt - (pt_cut - window)) / window).clamp(0.0, 1.0)
    else:
        ramp = (pt >= pt_cut).to(pt.dtype)
    weight = floor + (1.0 - floor) * ramp
    unknown = torch.isnan(pt) | (pt <= 0)
    return torch.where(unknown, torch.full_like(weight, floor), weight)
