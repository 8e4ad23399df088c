"""Geometric features of a hit pair, from the scaled cylindrical node features.

The node features of :mod:`trackcore.data.features` start with ``r/1000, phi/pi, z/1000``
(and ``eta`` when present). For an edge ``i -> j`` a track segment is described by the
differences of those coordinates, with ``phi`` wrapped across the ``+-pi`` seam, and by the
slopes ``dphi/dr`` (curvature: ~ 1/pT) and ``dz/dr`` (polar angle). Edge classifiers learn
these in their first layer only slowly; giving them directly speeds up training.
"""

from __future__ import annotations

import torch

# Slopes use |dr| floored at this many (scaled) units (1 mm): same-layer pairs do not blow up.
MIN_ABS_DR = 1e-3
EDGE_FEATURE_NAMES = ("dr", "dphi", "dz", "deta", "dphi_dr", "dz_dr")


def wrap_phi(dphi: torch.Tensor) -> torch.Tensor:
    """Wrap a difference of ``phi/pi`` into ``[-1, 1)`` (i.e. the angle into ``[-pi, pi)``)."""
    return torch.remainder(dphi + 1.0, 2.0) - 1.0


def geometric_edge_features(x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """``dr, dphi, dz, deta, dphi/dr, dz/dr`` of each edge (``deta`` is 0 without an eta column).

    Args:
        x: node features whose first columns are ``r/1000, phi/pi, z/1000[, eta]``.
        edge_index: ``[0]`` source ``i``, ``[1]`` target ``j``; differences are ``j - i``.

    Shapes:
        x: (N, F >= 3); edge_index: (2, E) -> (E, 6).
    """
    if x.dim() != 2 or x.size(1) < 3:
        raise ValueError(f"Expected 'x' of shape (N, >=3) with r, phi, z first (got {tuple(x.shape)})")
    src, dst = edge_index[0], edge_index[1]
    d = x.index_select(0, dst) - x.index_select(0, src)
    dr, dphi, dz = d[:, 0], wrap_phi(d[:, 1]), d[:, 2]
    deta = d[:, 3] if x.size(1) > 3 else torch.zeros_like(dr)
    safe_dr = torch.where(dr.abs() < MIN_ABS_DR, torch.full_like(dr, MIN_ABS_DR).copysign(dr), dr)
    return torch.stack([dr, dphi, dz, deta, dphi / safe_dr, dz / safe_dr], dim=1)
