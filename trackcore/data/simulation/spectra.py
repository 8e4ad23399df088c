"""Kinematic spectra of TrackML particles, as histograms to sample from.

The tables are the normalised pT and |eta| distributions of the particles of 40 real
TrackML events (``trackml_real_partial``, 393,618 particles; Amrouche et al.,
arXiv:1904.06778), split into primaries (production vertex within 1 mm of the beam line,
~70%) and secondaries. Like the real particles tables they cover 0.1 < pT < 100 GeV and
|eta| < 4. They are constants measured once, offline; nothing is read at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Histogram1D:
    """A piecewise-uniform density: bin ``i`` spans ``edges[i]..edges[i+1]`` with weight ``weights[i]``.

    Args:
        edges: increasing bin edges, length ``n + 1``.
        weights: non-negative bin weights, length ``n`` (any normalisation).
    """

    edges: tuple[float, ...]
    weights: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.edges) != len(self.weights) + 1:
            raise ValueError(f"need len(edges) == len(weights) + 1 (got {len(self.edges)}, {len(self.weights)})")
        if np.any(np.diff(self.edges) <= 0) or min(self.weights) < 0:
            raise ValueError("edges must increase and weights must be non-negative")

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Cumulative probability at ``x`` (linear within a bin).

        Shapes:
            x: (N,); return: (N,)
        """
        c = np.r_[0.0, np.cumsum(self.weights)]
        return np.interp(x, self.edges, c / c[-1])

    def sample(self, rng: np.random.Generator, n: int, low: float | None = None,
               high: float | None = None) -> np.ndarray:
        """Draw ``n`` values, optionally truncated to ``[low, high]`` (inverse CDF).

        Shapes:
            return: (n,)
        """
        c = np.r_[0.0, np.cumsum(self.weights)]
        c = c / c[-1]
        lo = 0.0 if low is None else float(self.cdf(np.array([low]))[0])
        hi = 1.0 if high is None else float(self.cdf(np.array([high]))[0])
        u = rng.uniform(lo, hi, n)
        # Flat bins (weight 0) make the CDF non-strictly increasing: interp still inverts it.
        return np.interp(u, c, self.edges)


_LOG10_PT_EDGES = tuple(np.round(np.linspace(-1.0, 2.0, 31), 2).tolist())
_ABS_ETA_EDGES = tuple(np.linspace(0.0, 4.0, 17).tolist())

PRIMARY_LOG10_PT = Histogram1D(
    _LOG10_PT_EDGES,
    (2999, 4486, 6260, 8311, 10224, 11995, 12425, 11808, 9816, 7367, 5327, 3725, 2362, 1394, 726,
     363, 180, 84, 49, 33, 18, 16, 9, 7, 6, 4, 3, 2, 1, 0.5),
)
"""log10(pT / GeV) of primaries (median 0.44 GeV, 16% above 1 GeV)."""

SECONDARY_LOG10_PT = Histogram1D(
    _LOG10_PT_EDGES,
    (12448, 13778, 14785, 14703, 14274, 12316, 8304, 2808, 2046, 1502, 1042, 716, 478, 304, 172,
     93, 55, 37, 41, 28, 17, 16, 13, 8, 3, 3, 3, 2, 2, 0.5),
)
"""log10(pT / GeV) of secondaries (median 0.23 GeV)."""

PRIMARY_ABS_ETA = Histogram1D(
    _ABS_ETA_EDGES,
    (613, 630, 626, 643, 650, 660, 648, 665, 648, 635, 635, 609, 609, 591, 577, 563),
)
"""|eta| of primaries: nearly flat up to 4."""

SECONDARY_ABS_ETA = Histogram1D(
    _ABS_ETA_EDGES,
    (2203, 1923, 1511, 1108, 755, 513, 362, 274, 228, 201, 185, 172, 159, 147, 136, 124),
)
"""|eta| of secondaries: mostly central, emitted at wide angles by interactions in material."""


def sample_pt_eta(rng: np.random.Generator, n: int, *, secondary: bool, pt_min: float = 0.1,
                  eta_max: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Draw transverse momenta (GeV) and pseudorapidities of ``n`` particles.

    Args:
        rng: random generator.
        n: number of particles.
        secondary: use the secondary spectra (else the primary ones).
        pt_min: lower pT cut (GeV), at least 0.1.
        eta_max: upper |eta| cut, at most 4.

    Shapes:
        return: pt (n,), eta (n,)
    """
    pt_hist = SECONDARY_LOG10_PT if secondary else PRIMARY_LOG10_PT
    eta_hist = SECONDARY_ABS_ETA if secondary else PRIMARY_ABS_ETA
    pt = 10.0 ** pt_hist.sample(rng, n, low=np.log10(pt_min))
    eta = eta_hist.sample(rng, n, high=eta_max) * rng.choice(np.array([-1.0, 1.0]), n)
    return pt, eta
