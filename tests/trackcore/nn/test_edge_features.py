"""Geometric edge features: differences j - i with phi wrapped across the seam, and slopes."""

from __future__ import annotations

import pytest
import torch

from trackcore.nn import EDGE_FEATURE_NAMES, geometric_edge_features, wrap_phi


def test_wrap_phi_takes_the_short_way_round():
    d = torch.tensor([0.0, 0.5, 1.9, -1.9, 1.0])
    assert wrap_phi(d).tolist() == pytest.approx([0.0, 0.5, -0.1, 0.1, -1.0])


def test_features_of_a_segment_crossing_the_phi_seam():
    # r/1000, phi/pi, z/1000, eta: hit 1 just below +pi, hit 2 just above -pi (a small step in phi)
    x = torch.tensor([[0.1, 0.99, 0.05, 0.3], [0.2, -0.99, 0.15, 0.4]])
    f = geometric_edge_features(x, torch.tensor([[0], [1]]))
    assert f.shape == (1, len(EDGE_FEATURE_NAMES))
    dr, dphi, dz, deta, dphi_dr, dz_dr = f[0].tolist()
    assert (dr, dphi, dz, deta) == pytest.approx((0.1, 0.02, 0.1, 0.1), abs=1e-6)
    assert dphi_dr == pytest.approx(0.2) and dz_dr == pytest.approx(1.0)
    # reversed edge: differences flip sign, slopes do not
    g = geometric_edge_features(x, torch.tensor([[1], [0]]))[0]
    assert g[:4].tolist() == pytest.approx([-v for v in (dr, dphi, dz, deta)], abs=1e-6)
    assert g[4:].tolist() == pytest.approx([dphi_dr, dz_dr])


def test_same_radius_pairs_stay_finite_and_eta_is_optional():
    x = torch.tensor([[0.1, 0.0, 0.0], [0.1, 0.01, 0.02]])
    f = geometric_edge_features(x, torch.tensor([[0, 1], [1, 0]]))
    assert torch.isfinite(f).all() and (f[:, 3] == 0).all()
    with pytest.raises(ValueError, match="r, phi, z first"):
        geometric_edge_features(x[:, :2], torch.tensor([[0], [1]]))
