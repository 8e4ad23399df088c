"""The similarity cut of GMPool: a two-Gaussian mixture fitted to edge similarities, and where it is cut.

GMPool (:mod:`trackcore.nn.gmpool`) keeps the edges whose similarity lies on the high side of
:func:`gmm_cut`: :func:`fit_two_gaussians` fits a 1-D mixture by expectation-maximisation, and
:meth:`TwoGaussians.cut` solves analytically for the value where the high component's posterior
odds are ``e^granularity``. Plain torch in float64, no gradient.

Usage::

    from trackcore.nn.gmm import gmm_cut
    cut = gmm_cut(s_e, granularity=5.0)   # s_e: (E,) edge similarities -> () cut
    kept = s_e > cut
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

from trackcore.neighbors.inputs import check_positive_int


@dataclass(frozen=True)
class TwoGaussians:
    """A 1-D mixture of two Gaussians, component 1 the one with the higher mean.

    Shapes:
        weight, mean, std: ``(2,)`` float64, ``weight`` summing to 1, ``std > 0``, ``mean[0] <= mean[1]``.
    """

    weight: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor

    def __post_init__(self) -> None:
        for name in ("weight", "mean", "std"):
            t = getattr(self, name)
            if not isinstance(t, torch.Tensor) or t.shape != (2,):
                raise ValueError(f"Expected '{name}' to be a tensor of shape (2,) (got {getattr(t, 'shape', t)!r})")
        (w0, w1), (m0, m1), (s0, s1) = self.weight.tolist(), self.mean.tolist(), self.std.tolist()
        if not all(math.isfinite(v) for v in (w0, w1, m0, m1, s0, s1)):
            raise ValueError(f"Expected finite weights, means and stds (got {self})")
        if min(w0, w1, s0, s1) <= 0:
            raise ValueError(f"Expected positive weights and stds (got weight {[w0, w1]}, std {[s0, s1]})")
        if m0 > m1:
            raise ValueError(f"Expected 'mean' sorted, the high component at index 1 (got {[m0, m1]})")

    def log_odds(self, s: torch.Tensor) -> torch.Tensor:
        r"""Log posterior odds of the high component over the low one at each value of ``s``:
        :math:`\log \frac{w_1 \mathcal N(s; \mu_1, \sigma_1)}{w_0 \mathcal N(s; \mu_0, \sigma_0)}`.

        Computed in float64, returned in the dtype of ``s`` (float64 for integer input).

        Shapes:
            s: any shape -> the same shape.
        """
        x = torch.as_tensor(s).to(device=self.mean.device, dtype=torch.float64)
        z = (x.unsqueeze(-1) - self.mean) / self.std
        log_p = self.weight.log() - self.std.log() - 0.5 * z * z
        out = log_p[..., 1] - log_p[..., 0]
        return out.to(s.dtype) if isinstance(s, torch.Tensor) and s.is_floating_point() else out

    def cut(self, granularity: float = 5.0) -> torch.Tensor:
        """The value where :meth:`log_odds` equals ``granularity``, solved analytically.

        ``log_odds`` is a quadratic in ``s`` (linear when the stds are equal). Of its real roots, one
        between the two means is preferred, else the root nearest the high mean. As the vertex of the
        parabola lies outside ``[mean[0], mean[1]]``, this is always the root where the log odds rise
        through ``granularity`` (so ``s > cut`` is the side of the high component). Where there is no real
        root (the odds never reach ``e^granularity``, or always exceed it) the high mean is returned.

        Shapes:
            output: ``()`` float64, on the device of the mixture.
        """
        g = check_finite("granularity", granularity)
        w0, w1 = self.weight.tolist()
        m0, m1 = self.mean.tolist()
        s0, s1 = self.std.tolist()
        a = 0.5 / s0**2 - 0.5 / s1**2
        b = m1 / s1**2 - m0 / s0**2
        c_hi = math.log(w1) - math.log(s1) - 0.5 * m1**2 / s1**2
        c = c_hi - (math.log(w0) - math.log(s0) - 0.5 * m0**2 / s0**2) - g
        roots: list[float] = []
        if a == 0.0:
            if b != 0.0:
                roots = [-c / b]
        else:
            disc = b * b - 4.0 * a * c
            if disc >= 0.0:
                q = -0.5 * (b + math.copysign(math.sqrt(disc), b))  # no cancellation between b and sqrt(disc)
                roots = [q / a, c / q] if q != 0.0 else [0.0]
        roots = [r for r in roots if math.isfinite(r)]
        between = [r for r in roots if m0 <= r <= m1]
        pool = between or roots
        value = min(pool, key=lambda r: abs(r - m1)) if pool else m1
        return torch.tensor(value, dtype=torch.float64, device=self.mean.device)


def fit_two_gaussians(s: torch.Tensor, *, n_iter: int = 100, tol: float = 1e-6) -> TwoGaussians:
    """Fit a two-component 1-D Gaussian mixture to ``s`` by expectation-maximisation (no gradient).

    Deterministic: the means start at the 25% and 75% quantiles (the minimum and maximum where those
    coincide), both stds at the std of the sample, the weights at 1/2. Each variance is floored at
    ``1e-6`` times the sample variance, and a component that loses all responsibility keeps its previous
    mean and variance, so the fit never degenerates to a zero-width spike. Stops after ``n_iter``
    iterations or when the mean log-likelihood improves by less than ``tol``. Runs in float64 on the
    device of ``s``.

    Raises:
        ValueError: ``s`` not a 1-D floating tensor, empty, with NaN/inf, or with fewer than 2 distinct
            values; ``n_iter < 1``; ``tol`` negative or not finite.

    Shapes:
        s: ``(E,)`` -> :class:`TwoGaussians` with ``(2,)`` float64 fields.
    """
    x = check_sample(s)
    n_iter = check_positive_int("n_iter", n_iter)
    tol = check_finite("tol", tol)
    if tol < 0:
        raise ValueError(f"Expected 'tol' >= 0 (got {tol!r})")
    xs = x.sort().values
    n = xs.numel()
    if bool(xs[0] == xs[-1]):
        raise ValueError(f"Expected 's' to hold at least 2 distinct values to fit two Gaussians (all {xs[0].item()})")
    mean = torch.stack([xs[(n - 1) // 4], xs[(3 * (n - 1)) // 4]])
    if bool(mean[0] == mean[1]):
        mean = torch.stack([xs[0], xs[-1]])
    total_var = x.var(unbiased=False)
    var_floor = (1e-6 * total_var).clamp_min(torch.finfo(torch.float64).tiny)
    var = total_var.expand(2).clone()
    weight = torch.full((2,), 0.5, dtype=torch.float64, device=x.device)
    prev_ll = -math.inf
    for _ in range(n_iter):
        # (2, E) with one row per component: elementwise two-term reductions beat logsumexp over a dim of 2
        log_p = (weight.log() - 0.5 * torch.log(2 * math.pi * var)).unsqueeze(1) - 0.5 * (
            x - mean.unsqueeze(1)
        ) ** 2 / var.unsqueeze(1)
        delta = log_p[1] - log_p[0]
        resp = torch.stack([torch.sigmoid(-delta), torch.sigmoid(delta)])
        ll = float(torch.logaddexp(log_p[0], log_p[1]).mean())
        mass = resp.sum(dim=1)
        alive = mass > 1e-12 * n
        safe_mass = mass.clamp_min(1e-300)
        weight = (mass / n).clamp_min(1e-300)
        new_mean = (resp * x).sum(dim=1) / safe_mass
        new_var = (resp * (x - new_mean.unsqueeze(1)) ** 2).sum(dim=1) / safe_mass
        mean = torch.where(alive, new_mean, mean)
        var = torch.where(alive, new_var, var).clamp_min(var_floor)
        if ll - prev_ll < tol:
            break
        prev_ll = ll
    order = mean.argsort()
    return TwoGaussians(weight=weight[order], mean=mean[order], std=var[order].sqrt())


def gmm_cut(s: torch.Tensor, granularity: float = 5.0) -> torch.Tensor:
    """The similarity cut of GMPool: where a two-Gaussian fit to ``s`` gives posterior odds ``e^granularity``
    for the high-similarity component (see :meth:`TwoGaussians.cut` for which root is taken).

    ``s`` is detached. When ``s`` holds a single distinct value, no mixture can be fitted and that value is
    returned (so that ``s > cut`` keeps nothing).

    Raises:
        ValueError: ``s`` not a 1-D floating tensor, empty or with NaN/inf; ``granularity`` not finite.

    Shapes:
        s: ``(E,)`` -> ``()`` in the dtype and on the device of ``s``.
    """
    x = check_sample(s)
    g = check_finite("granularity", granularity)
    if bool(x.min() == x.max()):
        return x[0].to(s.dtype)
    return fit_two_gaussians(x).cut(g).to(s.dtype)


def check_finite(name: str, value: float) -> float:
    """``value`` as a float, after checking it is a finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"Expected '{name}' to be a finite number (got {value!r})")
    return float(value)


def check_sample(s: torch.Tensor) -> torch.Tensor:
    """``s`` detached as float64, after checking it is a non-empty finite 1-D floating tensor."""
    if not isinstance(s, torch.Tensor) or not s.is_floating_point():
        raise ValueError(f"Expected 's' to be a floating-point torch.Tensor (got {getattr(s, 'dtype', type(s))})")
    if s.dim() != 1:
        raise ValueError(f"Expected 's' to be one-dimensional (got {s.dim()} dimensions)")
    if s.numel() == 0:
        raise ValueError("Expected 's' to hold at least one value (got an empty tensor)")
    x = s.detach().to(torch.float64)
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"'s' contains NaN or inf ({int((~torch.isfinite(x)).sum())} of {x.numel()} values)")
    return x
