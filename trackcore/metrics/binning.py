"""Binned rates (efficiency vs pT, eta, ...) with Clopper-Pearson intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Default bin edges (GeV) of efficiency vs pT and of efficiency vs eta.
PT_BINS = np.array([0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0, 100.0])
ETA_BINS = np.linspace(-4.0, 4.0, 17)


def clopper_pearson(k: np.ndarray, n: np.ndarray, cl: float = 0.683) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial (Clopper-Pearson) interval of ``k / n`` at confidence ``cl``.

    Bins with ``n == 0`` give NaN bounds.

    Shapes:
        k, n: (B,); return: lower (B,), upper (B,).
    """
    from scipy.stats import beta as beta_dist  # scipy.stats costs ~0.7 s to import: only when needed

    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    alpha = 1.0 - cl
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, beta_dist.ppf(alpha / 2, k, n - k + 1), 0.0)
        hi = np.where(k < n, beta_dist.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    empty = n <= 0
    return np.where(empty, np.nan, lo), np.where(empty, np.nan, hi)


@dataclass(frozen=True)
class BinnedRate:
    """A rate ``passed / total`` in bins of one variable, with Clopper-Pearson intervals.

    Shapes:
        edges: (B + 1,); passed, total: (B,) int64; rate, lower, upper: (B,) float (NaN where
        ``total == 0``).
    """

    variable: str
    edges: np.ndarray
    passed: np.ndarray
    total: np.ndarray
    cl: float = 0.683

    @property
    def centers(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def rate(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.total > 0, self.passed / np.maximum(self.total, 1), np.nan)

    @property
    def lower(self) -> np.ndarray:
        return clopper_pearson(self.passed, self.total, self.cl)[0]

    @property
    def upper(self) -> np.ndarray:
        return clopper_pearson(self.passed, self.total, self.cl)[1]

    def to_dict(self) -> dict:
        return {
            "variable": self.variable,
            "edges": self.edges.tolist(),
            "passed": self.passed.tolist(),
            "total": self.total.tolist(),
            "rate": [None if np.isnan(v) else float(v) for v in self.rate],
            "lower": [None if np.isnan(v) else float(v) for v in self.lower],
            "upper": [None if np.isnan(v) else float(v) for v in self.upper],
            "cl": self.cl,
        }


def binned_rate(
    values: np.ndarray, passed: np.ndarray, edges: np.ndarray, variable: str, cl: float = 0.683
) -> BinnedRate:
    """Count ``passed`` among entries in each bin of ``values`` (outside the edges: not counted).

    Shapes:
        values, passed: (N,); edges: (B + 1,) increasing.
    """
    values = np.asarray(values, dtype=float)
    passed = np.asarray(passed, dtype=bool)
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"bin edges must be 1-D and strictly increasing (got {edges.tolist()})")
    total, _ = np.histogram(values, bins=edges)
    npass, _ = np.histogram(values[passed], bins=edges)
    return BinnedRate(variable, edges, npass.astype(np.int64), total.astype(np.int64), cl)
