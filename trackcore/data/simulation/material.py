"""Material of the layers and Highland multiple scattering (PDG Review, "Passage of particles through matter").

Each layer is a thin sheet of ``x/X0`` radiation lengths at normal incidence (sensor,
readout chip or hybrid, cooling and support together); a particle crossing at an angle
sees ``x/X0 / |cos(incidence)|``. The values are those of a typical silicon tracker of
the TrackML kind: ~2.5% X0 per pixel layer, more for the strip layers with their
heavier hybrids and supports. Energy loss is not simulated.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trackcore.data.geometry import Layer

RADIATION_LENGTHS: dict[str, float] = {"pixel": 0.025, "short_strip": 0.035, "long_strip": 0.045}
"""Material per layer at normal incidence (fraction of a radiation length) by technology."""

MAX_PATH_FACTOR = 10.0
"""Largest 1/|cos(incidence)|: a grazing crossing sees at most ten times the material."""


def layer_radiation_lengths(layers: Sequence[Layer]) -> np.ndarray:
    """x/X0 at normal incidence of each layer.

    Shapes:
        return: (N_layers,)
    """
    return np.array([RADIATION_LENGTHS[layer.technology] for layer in layers])


def highland_theta0(p: np.ndarray, beta: np.ndarray, x_over_x0: np.ndarray,
                    charge: np.ndarray | float = 1.0) -> np.ndarray:
    """RMS plane scattering angle (rad) from the Highland formula.

    theta0 = 13.6 MeV / (beta c p) * |z| * sqrt(x/X0) * (1 + 0.038 ln(x z^2 / (X0 beta^2)))

    Args:
        p: momentum (GeV).
        beta: velocity / c.
        x_over_x0: material crossed, in radiation lengths (> 0).
        charge: charge in units of e.

    Shapes:
        all: (N,) or broadcastable; return: (N,)
    """
    z = np.abs(charge)
    x = np.asarray(x_over_x0, dtype=float)
    log_term = 1.0 + 0.038 * np.log(x * z**2 / beta**2)
    return 0.0136 / (beta * p) * z * np.sqrt(x) * np.maximum(log_term, 0.0)


def scatter(direction: np.ndarray, theta0: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Deflect unit directions by two independent Gaussian plane angles of RMS ``theta0``.

    Shapes:
        direction: (N, 3) unit vectors; theta0: (N,); return: (N, 3) unit vectors.
    """
    # A basis perpendicular to each direction: e1 = d x z (or x for tracks along z).
    e1 = np.cross(direction, np.array([0.0, 0.0, 1.0]))
    norm = np.linalg.norm(e1, axis=1)
    along_z = norm < 1e-12
    e1[along_z] = np.array([1.0, 0.0, 0.0])
    norm[along_z] = 1.0
    e1 /= norm[:, None]
    e2 = np.cross(direction, e1)
    a1 = np.tan(rng.normal(0.0, 1.0, len(theta0)) * theta0)
    a2 = np.tan(rng.normal(0.0, 1.0, len(theta0)) * theta0)
    out = direction + a1[:, None] * e1 + a2[:, None] * e2
    return out / np.linalg.norm(out, axis=1, keepdims=True)
