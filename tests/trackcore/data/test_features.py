"""Scaled hit features: pinned values on hand-built hits, rotation about the beam axis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trackcore.data.features import cell_features, feature_names, hit_features, pseudorapidity


def _hits(xyz: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "hit_id": np.arange(1, len(xyz) + 1),
        "x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2],
    })


def test_pinned_values() -> None:
    xyz = np.array([
        [1000.0, 0.0, 0.0],      # r = 1, phi = 0, z = 0, eta = 0
        [0.0, 500.0, 500.0],     # r = 0.5, phi = 1/2, z = 0.5, eta = asinh(1)
        [-30.0, 0.0, -1500.0],   # phi = pi -> 1, eta very negative
        [0.0, -200.0, 0.0],      # phi = -pi/2 -> -0.5
    ])
    x = hit_features(_hits(xyz))
    assert x.dtype == np.float32 and x.shape == (4, 4)
    expected = np.array([
        [1.0, 0.0, 0.0, 0.0],
        [0.5, 0.5, 0.5, np.arcsinh(1.0)],
        [0.03, 1.0, -1.5, np.arcsinh(-50.0)],
        [0.2, -0.5, 0.0, 0.0],
    ])
    np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-7)


def test_eta_matches_theta_definition() -> None:
    r, z = np.array([30.0, 100.0, 1000.0]), np.array([-3000.0, 5.0, 2000.0])
    theta = np.arctan2(r, z)
    np.testing.assert_allclose(pseudorapidity(r, z), -np.log(np.tan(theta / 2)), rtol=1e-10)


def test_rotation_about_beam_axis_changes_only_phi() -> None:
    rng = np.random.default_rng(0)
    xyz = np.column_stack([rng.uniform(-1000, 1000, (200, 2)), rng.uniform(-3000, 3000, 200)])
    angle = 0.7
    c, s = np.cos(angle), np.sin(angle)
    rotated = xyz @ np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])  # row vectors: R^T
    a, b = hit_features(_hits(xyz)), hit_features(_hits(rotated))
    names = feature_names()
    phi = names.index("phi")
    others = [i for i in range(len(names)) if i != phi]
    np.testing.assert_allclose(a[:, others], b[:, others], rtol=1e-5, atol=1e-5)
    # phi shifts by the angle, modulo a full turn (2 in units of pi).
    dphi = np.mod(b[:, phi] - a[:, phi] + 1.0, 2.0) - 1.0
    np.testing.assert_allclose(dphi, angle / np.pi, atol=1e-5)
    assert not np.allclose(a[:, phi], b[:, phi])


def test_cell_features() -> None:
    hits = _hits(np.array([[100.0, 0, 0], [200.0, 0, 0], [300.0, 0, 0]]))
    cells = pd.DataFrame({
        "hit_id": [1, 1, 1, 3], "ch0": [0, 1, 2, 5], "ch1": [0, 0, 0, 7],
        "value": [0.5, 0.25, 0.25, 2.0],
    })
    np.testing.assert_allclose(cell_features(hits["hit_id"].to_numpy(), cells),
                               [[0.3, 0.1], [0.0, 0.0], [0.1, 0.2]])
    x = hit_features(hits, cells=cells, use_eta=False)
    assert x.shape == (3, 5) and feature_names(use_eta=False, use_cells=True)[3:] == (
        "cell_count", "cell_charge")
    np.testing.assert_allclose(x[:, 3:], [[0.3, 0.1], [0.0, 0.0], [0.1, 0.2]], rtol=1e-6)


@pytest.mark.parametrize("use_eta", [True, False])
def test_feature_names_match_columns(use_eta: bool) -> None:
    x = hit_features(_hits(np.ones((5, 3))), use_eta=use_eta)
    assert x.shape[1] == len(feature_names(use_eta=use_eta))
