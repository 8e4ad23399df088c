"""Helix maths of the refinement: least-squares helix fits, their residuals, and the robust search.

The helix model is a circle in the transverse plane and a straight line in ``(r, z)``,
``r = sqrt(x^2 + y^2)``. Along a helix from the beam line ``z`` is linear in the transverse arc
length ``s = 2R asin(r / 2R)``, not in ``r``; perpendicular to the line the difference is at
most ``r^3 / 24R^2`` (0.09 mm at r = 180 mm, the end of a pixel detector, for pT = 1 GeV in 2 T),
and the fitted line absorbs most of it. The ``(s, z)`` line is not used: it needs the circle's
radius, and a wrong circle through hits of two particles then bends the line to fit them (the
robust search then keeps many more mixed subsets; measured in ``docs/refinement.md``).

Residuals are geometric distances: ``|distance to the centre - R|`` in ``(x, y)`` and the
perpendicular distance to the line in ``(r, z)`` (so very forward tracks, almost parallel to
``z``, are judged by their radial miss and not by a huge ``z`` miss). The fits are the algebraic
(Kasa) circle and the total-least-squares line (:func:`fit_helices`); the robust search
(:meth:`HelixCheck.best_helices`) takes the circle through three hits and the line through the two
of them farthest apart in ``(r, z)``. Positions are in mm as the TrackML tables give them.

Usage::

    from trackcore.refinement.helix import HelixCheck, fit_helices
    fits = fit_helices(p[rows], group, n_groups)           # HelixFits, one row per group
    ok, fits = HelixCheck(0.15, 0.5, 6.0).fit_ok(p, tracks)  # which index arrays lie on one helix
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from trackcore.checks import check_nonnegative
from trackcore.refinement.helix_kernel import best_helices_kernel

_TRIPLES: dict[int, np.ndarray] = {}
PARALLEL_MIN_WORK = 1 << 20
"""Residuals (sets x points x triples) from which :meth:`HelixCheck.best_helices` splits its sets between threads."""


def all_triples(n: int) -> np.ndarray:
    """Every 3-subset of ``range(n)`` as rows (cached per n)."""
    if n not in _TRIPLES:
        _TRIPLES[n] = np.array(list(itertools.combinations(range(n), 3)), dtype=np.int64).reshape(-1, 3)
    return _TRIPLES[n]


def triples_through_first(n: int) -> np.ndarray:
    """Every 3-subset of ``range(n)`` that contains 0, as rows (cached per n)."""
    key = -n
    if key not in _TRIPLES:
        pairs = np.array(list(itertools.combinations(range(1, n), 2)), dtype=np.int64).reshape(-1, 2)
        _TRIPLES[key] = np.concatenate([np.zeros((len(pairs), 1), np.int64), pairs], 1)
    return _TRIPLES[key]


@dataclass(frozen=True)
class HelixFits:
    """Least-squares helices of several hit groups (circle + ``(r, z)`` line), one row per group.

    The circle is kept in its algebraic form about the group's mean point ``(mx, my)``:
    ``u^2 + v^2 = a u + b v + c`` with ``u = x - mx, v = y - my`` (centre ``(a/2, b/2)``), so that
    residuals stay exact for nearly straight tracks, whose radius is huge.

    Args:
        mx, my, a, b, c: the circles; ``line`` marks exactly collinear groups, fitted by the
            transverse line through ``(mx, my)`` with unit direction ``(lx, ly)`` instead.
        r0, z0: a point of each ``(r, z)`` line; ``ur, uz``: its unit direction.

    Shapes:
        every field: (G,) (``line`` bool, the others float64).
    """

    mx: np.ndarray
    my: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    line: np.ndarray
    lx: np.ndarray
    ly: np.ndarray
    r0: np.ndarray
    z0: np.ndarray
    ur: np.ndarray
    uz: np.ndarray

    @property
    def radius(self) -> np.ndarray:
        """Transverse radius of curvature (mm; inf for collinear groups)."""
        r2 = self.c + (self.a * self.a + self.b * self.b) / 4
        return np.where(self.line, np.inf, np.sqrt(np.maximum(r2, 0.0)))

    def residuals(self, p: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Transverse and ``(r, z)`` distances of points to the helix of their group.

        Shapes:
            p: (n, 3) float64 ``x, y, z``; group: (n,) int64 in ``[0, G)``; returns two (n,) arrays.
        """
        u, v = p[:, 0] - self.mx[group], p[:, 1] - self.my[group]
        a, b = self.a[group], self.b[group]
        # |d - R| = |d^2 - R^2| / (d + R), with d^2 - R^2 = u^2 + v^2 - a u - b v - c: no large terms cancel
        radius = self.radius[group]
        dist = np.hypot(u - a / 2, v - b / 2)
        with np.errstate(invalid="ignore"):
            circle = np.abs(u * u + v * v - a * u - b * v - self.c[group]) / (dist + radius)
        dxy = np.where(self.line[group], np.abs(u * self.ly[group] - v * self.lx[group]), circle)
        r = np.hypot(p[:, 0], p[:, 1])
        drz = np.abs((r - self.r0[group]) * self.uz[group] - (p[:, 2] - self.z0[group]) * self.ur[group])
        return dxy, drz

    @property
    def z_at_beam(self) -> np.ndarray:
        """``z`` of each line at ``r = 0`` (the line's point itself for lines parallel to ``z``)."""
        steep = np.abs(self.ur) > 1e-9
        return np.where(steep, self.z0 - self.r0 * self.uz / np.where(steep, self.ur, 1.0), self.z0)

    @property
    def d0(self) -> np.ndarray:
        """Transverse distance of the beam line (``x = y = 0``) to each circle (mm)."""
        origin = np.zeros((len(self.mx), 3))
        return self.residuals(origin, np.arange(len(self.mx)))[0]

    @property
    def eta(self) -> np.ndarray:
        """Pseudorapidity of each ``(r, z)`` line, oriented outward."""
        sign = np.where(self.ur >= 0, 1.0, -1.0)
        return np.arcsinh(sign * self.uz / np.maximum(np.abs(self.ur), 1e-9))


def helix_radius(pt: float, field_t: float) -> float:
    """The transverse radius (mm) of a unit-charge helix of transverse momentum ``pt`` (GeV) in a ``field_t`` (T)
    field: ``R = pT / (0.3 B)``."""
    return pt / (0.299792458e-3 * field_t)


def fit_helices(p: np.ndarray, group: np.ndarray, n_groups: int, through_beam: np.ndarray | None = None) -> HelixFits:
    """Least-squares helix of each group: algebraic (Kasa) circle in ``(x, y)``, total least squares in ``(r, z)``.

    Closed forms on per-group sums, so thousands of candidates are fitted in a few array passes.
    Groups marked in ``through_beam`` fit their circle to their points and the beam line ``(0, 0)``
    (a prompt particle's circle passes within ~1 mm of it): three hits of which two lie close together,
    on overlapping modules of one layer, fix no curvature by themselves. Their ``(r, z)`` line is unchanged.

    Shapes:
        p: (n, 3) float64; group: (n,) int64 in ``[0, n_groups)``, every group with >= 2 points;
        through_beam: (n_groups,) bool.
    """
    x, y = p[:, 0], p[:, 1]
    circle_group = group
    if through_beam is not None and through_beam.any():
        beam = np.flatnonzero(through_beam)
        x, y = np.r_[x, np.zeros(beam.size)], np.r_[y, np.zeros(beam.size)]
        circle_group = np.r_[group, beam]
    mx, my, a, b, c, line, lx, ly = _circles(x, y, circle_group, n_groups)
    r0, z0, ur, uz = _rz_lines(np.hypot(p[:, 0], p[:, 1]), p[:, 2], group, n_groups)
    return HelixFits(mx=mx, my=my, a=a, b=b, c=c, line=line, lx=lx, ly=ly, r0=r0, z0=z0, ur=ur, uz=uz)


def _group_sums(group: np.ndarray, n_groups: int) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray]:
    """The per-group sum of a per-point array, and each group's point count (float)."""
    def total(w: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=w, minlength=n_groups)

    return total, np.bincount(group, minlength=n_groups).astype(np.float64)


def _circles(x: np.ndarray, y: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, ...]:
    """Kasa circle (or, for collinear groups, transverse line) of each group: ``mx, my, a, b, c, line, lx, ly``."""
    total, count = _group_sums(group, n_groups)
    mx, my = total(x) / count, total(y) / count
    xc, yc = x - mx[group], y - my[group]
    sxx, sxy, syy = total(xc * xc), total(xc * yc), total(yc * yc)
    w = xc * xc + yc * yc
    bx, by, c = total(xc * w), total(yc * w), total(w) / count
    det = sxx * syy - sxy * sxy
    line = ~(det > 1e-12 * np.maximum(sxx * syy, 1e-300))
    safe = np.where(line, 1.0, det)
    a = np.where(line, 0.0, (bx * syy - by * sxy) / safe)  # u^2 + v^2 = a u + b v + c (centred)
    b = np.where(line, 0.0, (by * sxx - bx * sxy) / safe)
    angle_xy = 0.5 * np.arctan2(2 * sxy, sxx - syy)  # principal direction, for collinear groups
    return mx, my, a, b, c, line, np.cos(angle_xy), np.sin(angle_xy)


def _rz_lines(r: np.ndarray, z: np.ndarray, group: np.ndarray, n_groups: int) -> tuple[np.ndarray, ...]:
    """Total-least-squares ``(r, z)`` line of each group: ``r0, z0, ur, uz``."""
    total, count = _group_sums(group, n_groups)
    mr, mz = total(r) / count, total(z) / count
    rc, zc = r - mr[group], z - mz[group]
    angle = 0.5 * np.arctan2(2 * total(rc * zc), total(rc * rc) - total(zc * zc))
    return mr, mz, np.cos(angle), np.sin(angle)


def flatten(tracks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The hit indices of several index arrays, concatenated, and each one's array number.

    Shapes:
        tracks: G index arrays; returns two (sum of their lengths,) int arrays.
    """
    return np.concatenate(tracks), np.repeat(np.arange(len(tracks)), [len(t) for t in tracks])


def best_per_layer(
    track: np.ndarray, hit: np.ndarray, score: np.ndarray, layer_of_hit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Resolve candidate (track, hit) pairs: each hit goes to its best-scoring (lowest) track, then
    each track keeps its best hit per layer. Returned sorted by track, then layer.

    Shapes:
        track, hit, score: (P,) pairs; layer_of_hit: (N_hits,) a layer key per hit; returns two (Q,) arrays.
    """
    order = np.lexsort((score, hit))  # each hit: its best-fitting track
    track, hit, score = track[order], hit[order], score[order]
    first = np.r_[True, hit[1:] != hit[:-1]]
    track, hit, score = track[first], hit[first], score[first]
    layer = layer_of_hit[hit]
    order = np.lexsort((score, layer, track))  # each (track, layer): its best-fitting hit
    track, hit, layer = track[order], hit[order], layer[order]
    first = np.r_[True, (track[1:] != track[:-1]) | (layer[1:] != layer[:-1])]
    return track[first], hit[first]


def beam_constrained_fits(p: np.ndarray, tracks: list[np.ndarray], fits: HelixFits) -> HelixFits:
    """Each track's helix refitted with one more point on the beam line, ``(0, 0, z)`` with ``z``
    where its fitted ``(r, z)`` line meets ``r = 0``: a prompt particle's circle passes the beam line,
    so short tracks (3 hits, two of them on one layer's overlapping modules) extrapolate far better.

    Shapes:
        p: (N_hits, 3) float64; tracks: G index arrays; fits: their :func:`fit_helices`.
    """
    rows, group = flatten(tracks)
    beam = np.stack([np.zeros(len(tracks)), np.zeros(len(tracks)), fits.z_at_beam], 1)
    return fit_helices(np.vstack([p[rows], beam]), np.r_[group, np.arange(len(tracks))], len(tracks))


@dataclass(frozen=True)
class HelixCheck:
    """Whether hits lie on one helix: the tolerances, the pseudorapidity limit and the robust search.

    :class:`~trackcore.refinement.refine.HelixRefinement` holds these settings (its fields of the
    same names) and passes them to every step as one of these.

    Args:
        tol_xy: largest transverse residual of a hit on a helix (mm).
        tol_rz: largest ``(r, z)`` residual (mm).
        max_eta: largest ``|pseudorapidity|`` of a helix's ``(r, z)`` line.
        max_triples: triples tried per point set by :meth:`inliers` (a seeded sample beyond).
        seed: of that sample.
    """

    tol_xy: float
    tol_rz: float
    max_eta: float
    max_triples: int = 2000
    seed: int = 0

    def fit_ok(self, p: np.ndarray, groups: list[np.ndarray]) -> tuple[np.ndarray, HelixFits]:
        """Whether each group of hits lies on its least-squares helix within the tolerances, and the fits.

        Shapes:
            p: (N_hits, 3) float64; groups: G index arrays into ``p`` (>= 3 each); returns (G,) bool.
        """
        rows, group = flatten(groups)
        fits = fit_helices(p[rows], group, len(groups))
        dxy, drz = fits.residuals(p[rows], group)
        bad = (dxy > self.tol_xy) | (drz > self.tol_rz)
        ok = np.bincount(group, weights=bad, minlength=len(groups)) == 0
        return ok & (np.abs(fits.eta) <= self.max_eta), fits

    def inliers(self, p: np.ndarray) -> np.ndarray:
        """The largest set of points on one helix through three of them (ties: smallest residuals).

        Shapes:
            p: (n, 3) float64 with n >= 3; returns (n,) bool.
        """
        return self.best_helices(p[None], self.triples(len(p)), np.ones((1, len(p)), bool))[0]

    def inliers_many(self, sets: list[np.ndarray]) -> list[np.ndarray]:
        """:meth:`inliers` of each point set, the sets of one size searched together (the same result,
        in one call of the compiled search).

        Shapes:
            sets: S arrays (n_s, 3) float64 with n_s >= 3; returns S arrays (n_s,) bool.
        """
        out: list[np.ndarray] = [np.zeros(0, bool)] * len(sets)
        sizes = np.array([len(s) for s in sets], dtype=np.int64)
        for n in np.unique(sizes):
            which = np.flatnonzero(sizes == n)
            stacked = np.stack([sets[i] for i in which])
            keep = self.best_helices(stacked, self.triples(int(n)), np.ones((len(which), n), bool))
            for i, k in zip(which, keep, strict=True):
                out[i] = k
        return out

    def triples(self, n: int) -> np.ndarray:
        """The triples :meth:`inliers` tries on ``n`` points: all of them, or ``max_triples`` drawn with ``seed``.

        Shapes:
            returns (T, 3) int64 indices into n.
        """
        triples = all_triples(n) if n <= 24 else None
        if triples is None or len(triples) > self.max_triples:
            rng = np.random.default_rng(self.seed)
            triples = np.sort(np.argpartition(rng.random((self.max_triples, n)), 3, axis=1)[:, :3], axis=1)
        return triples

    def best_helices(self, p: np.ndarray, triples: np.ndarray, valid: np.ndarray, *, min_gap: float = 0.0,
                     whole: bool = False, max_d0: float = np.inf, min_radius: float = 0.0) -> np.ndarray:
        """For each of several point sets, the points on its best helix through one of ``triples``.

        The helix through a triple is the circle through its three points (transverse plane) and
        the ``(r, z)`` line through the two of them farthest apart; the best one holds the most
        points within the tolerances (ties: smallest summed residuals, then the first triple).
        Triples with two points closer than ``min_gap`` (mm) define no helix (e.g. two hits of one
        particle on overlapping modules of one layer: they fix no curvature), nor (``whole``) those
        whose own middle point in ``(r, z)`` is off the line through the other two, nor those whose
        circle passes farther than ``max_d0`` (mm) from the beam line or has a radius below ``min_radius`` (mm).

        Shapes:
            p: (B, n, 3) float64; triples: (T, 3) indices into n; valid: (B, n) bool (padding
            points are False: never counted, and triples using them are skipped); returns (B, n) bool.
        """
        p = np.ascontiguousarray(p, dtype=np.float64)
        triples = np.ascontiguousarray(triples, dtype=np.int64)
        valid = np.ascontiguousarray(valid, dtype=np.bool_)
        if p.ndim != 3 or p.shape[2] != 3 or valid.shape != p.shape[:2] or triples.ndim != 2 or triples.shape[1] != 3:
            raise ValueError(
                f"Expected p (B, n, 3), valid (B, n) and triples (T, 3) (got {p.shape}, {valid.shape}, {triples.shape})"
            )
        if len(triples) and (triples.min() < 0 or triples.max() >= p.shape[1]):
            raise ValueError(f"Expected triples' indices in [0, {p.shape[1]}) (got {triples.min()}..{triples.max()})")
        min_gap = check_nonnegative("min_gap", min_gap)
        max_d0 = max_d0 if max_d0 == np.inf else check_nonnegative("max_d0", max_d0)  # inf: no such rule
        min_radius = check_nonnegative("min_radius", min_radius)
        args = (float(self.tol_xy), float(self.tol_rz), float(np.sinh(min(self.max_eta, 700.0))), min_gap,
                bool(whole), float(max_d0), min_radius)
        # the sets are independent and the kernel releases the GIL: large calls are split between
        # torch's intra-op threads (the project's one thread setting), each set searched whole
        work = p.shape[0] * p.shape[1] * len(triples)
        n_threads = min(torch.get_num_threads(), p.shape[0], work // PARALLEL_MIN_WORK)
        if n_threads < 2:
            return best_helices_kernel(p, triples, valid, *args)
        bounds = np.linspace(0, p.shape[0], n_threads + 1).astype(np.int64)
        with ThreadPoolExecutor(n_threads) as pool:
            parts = pool.map(lambda i: best_helices_kernel(p[bounds[i]:bounds[i + 1]], triples,
                                                           valid[bounds[i]:bounds[i + 1]], *args), range(n_threads))
            return np.concatenate(list(parts))

