"""Highland multiple scattering and the pT/eta spectra (pinned numbers, statistics)."""

from __future__ import annotations

import numpy as np
import pytest

from trackcore.data.simulation import highland_theta0
from trackcore.data.simulation.material import scatter
from trackcore.data.simulation.spectra import PRIMARY_LOG10_PT, sample_pt_eta


def test_highland_pinned_value() -> None:
    # 1 GeV, beta = 1, 1% X0: 13.6 MeV * 0.1 * (1 + 0.038 ln 0.01) = 1.1220 mrad.
    theta = highland_theta0(np.array([1.0]), np.array([1.0]), np.array([0.01]))
    assert theta[0] == pytest.approx(0.00136 * (1 + 0.038 * np.log(0.01)), rel=1e-12)
    assert theta[0] == pytest.approx(1.1220e-3, rel=1e-4)


def test_scatter_keeps_unit_directions_with_the_requested_spread() -> None:
    rng = np.random.default_rng(0)
    n = 200_000
    d = np.tile([0.6, 0.0, 0.8], (n, 1))
    out = scatter(d, np.full(n, 0.01), rng)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-12)
    # Plane angle along y (perpendicular to d and to its transverse direction).
    assert np.std(out[:, 1]) == pytest.approx(0.01, rel=0.02)
    assert np.mean(out @ np.array([0.6, 0.0, 0.8])) == pytest.approx(np.cos(0.01 * np.sqrt(2)), abs=1e-4)


def test_sampled_spectra_follow_the_tables() -> None:
    rng = np.random.default_rng(1)
    pt, eta = sample_pt_eta(rng, 200_000, secondary=False)
    assert pt.min() >= 0.1 and np.abs(eta).max() <= 4.0
    assert np.median(pt) == pytest.approx(10 ** np.interp(0.5, PRIMARY_LOG10_PT.cdf(np.array(PRIMARY_LOG10_PT.edges)),
                                                          PRIMARY_LOG10_PT.edges), rel=0.02)
    assert np.mean(eta > 0) == pytest.approx(0.5, abs=0.01)
    pt_cut, _ = sample_pt_eta(rng, 1000, secondary=True, pt_min=1.0)
    assert pt_cut.min() >= 1.0 - 1e-12
