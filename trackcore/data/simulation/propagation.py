"""Helix propagation through the layers in a uniform solenoid field, vectorised over particles.

In a field B along +z a particle of charge q moves on a helix whose transverse circle has
radius ``R[mm] = pT[GeV] / (0.3 |q| B[T]) * 1000`` and turns with sign ``h = -sign(q B)``
(positive particles turn clockwise seen from +z). With ``phi`` the direction of the
transverse momentum and ``alpha >= 0`` the turning angle since the start point::

    centre  c = (x0 - h R sin phi0, y0 + h R cos phi0)
    phi(alpha) = phi0 + h alpha
    x = cx + h R sin phi,  y = cy - h R cos phi,  z = z0 + (pz / pT) R alpha

Crossings are found analytically: a barrel cylinder of radius rho by intersecting the
track circle with the circle ``|x| = rho`` (two candidates), a disk at ``z = zd`` from the
linear z(alpha). Every iteration moves each particle to its nearest valid crossing (the
smallest positive turning angle over all layers), records it, applies multiple scattering
and goes on; the loop runs over crossings, never over particles. A particle stops when no
layer is crossed within its remaining turning budget (``max_turn``, pi by default: a
looper stops where it starts to curl back) or it has left the detector.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from trackcore.data.geometry import Layer
from trackcore.data.simulation.material import (
    MAX_PATH_FACTOR,
    highland_theta0,
    layer_radiation_lengths,
    scatter,
)
from trackcore.data.simulation.particles import ParticleSet

_MM_PER_GEV_TESLA = 1000.0 / 0.299792458  # R[mm] = pT[GeV] / (0.3 B[T]) * 1000
TWO_PI = 2.0 * math.pi


@dataclass
class Crossings:
    """Layer crossings of particles, in the order they were found.

    Args:
        particle: index of the particle in its :class:`ParticleSet`.
        layer: index of the crossed layer in the layer sequence given to :func:`propagate`.
        step: crossing number along the particle's trajectory (0 = first).
        position: true crossing point (mm).
        momentum: momentum arriving at the crossing (GeV): after the scattering in all
            earlier layers, before that of this one.
        x_over_x0: material seen at this crossing (radiation lengths).
        cos_incidence: |cos| of the angle between the direction and the layer normal.
        interacted: the particle had a nuclear interaction in this layer and stopped here.

    Shapes:
        particle, layer, step: (K,) int64; position, momentum: (K, 3); x_over_x0,
        cos_incidence: (K,); interacted: (K,) bool
    """

    particle: np.ndarray
    layer: np.ndarray
    step: np.ndarray
    position: np.ndarray
    momentum: np.ndarray
    x_over_x0: np.ndarray
    cos_incidence: np.ndarray
    interacted: np.ndarray

    def __len__(self) -> int:
        return len(self.particle)

    def select(self, mask: np.ndarray) -> Crossings:
        """The crossings where ``mask`` is True (or at the given indices)."""
        return Crossings(*(getattr(self, f.name)[mask] for f in fields(self)))

    @staticmethod
    def concat(*parts: Crossings) -> Crossings:
        return Crossings(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Crossings)))

    @staticmethod
    def empty() -> Crossings:
        i = np.zeros(0, np.int64)
        f = np.zeros(0)
        return Crossings(i, i, i, np.zeros((0, 3)), np.zeros((0, 3)), f, f, np.zeros(0, bool))


class _Surfaces:
    """Layer parameters as arrays, barrels and disks apart."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.barrel = np.array([i for i, lay in enumerate(layers) if lay.is_barrel], dtype=np.int64)
        self.disk = np.array([i for i, lay in enumerate(layers) if not lay.is_barrel], dtype=np.int64)
        bl = [layers[i] for i in self.barrel]
        dl = [layers[i] for i in self.disk]
        self.rb = np.array([lay.r for lay in bl])
        self.zb_min = np.array([lay.z_min for lay in bl])
        self.zb_max = np.array([lay.z_max for lay in bl])
        self.zd = np.array([lay.z for lay in dl])
        self.rd_min = np.array([lay.r_min for lay in dl])
        self.rd_max = np.array([lay.r_max for lay in dl])
        self.is_barrel = np.array([lay.is_barrel for lay in layers], dtype=bool)


def helix_radius(pt: np.ndarray, charge: np.ndarray, field_t: float) -> np.ndarray:
    """Radius (mm) of the transverse circle: ``pT / (0.3 |q| B) * 1000``.

    Shapes:
        pt, charge: (N,); return: (N,)
    """
    return pt / (np.abs(charge) * abs(field_t)) * _MM_PER_GEV_TESLA


def helix_step(position: np.ndarray, momentum: np.ndarray, charge: np.ndarray, field_t: float,
               alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Move along helices by turning angles ``alpha`` (no material).

    Args:
        position: start points (mm).
        momentum: momenta at the start (GeV).
        charge: charges (e).
        field_t: field along +z (T).
        alpha: turning angles (rad, >= 0); transverse path length is ``R * alpha``.

    Shapes:
        position, momentum: (N, 3); charge, alpha: (N,); return: position (N, 3), momentum (N, 3)
    """
    pt = np.hypot(momentum[:, 0], momentum[:, 1])
    radius = helix_radius(pt, charge, field_t)
    h = -np.sign(charge * field_t)
    phi0 = np.arctan2(momentum[:, 1], momentum[:, 0])
    phi = phi0 + h * alpha
    hr = h * radius
    # x0 + hR (sin phi - sin phi0) is the same point as cx + hR sin phi, with less cancellation.
    x = position[:, 0] + hr * (np.sin(phi) - np.sin(phi0))
    y = position[:, 1] - hr * (np.cos(phi) - np.cos(phi0))
    z = position[:, 2] + momentum[:, 2] * radius / pt * alpha
    new_mom = np.column_stack([pt * np.cos(phi), pt * np.sin(phi), momentum[:, 2]])
    return np.column_stack([x, y, z]), new_mom


def next_crossing(position: np.ndarray, momentum: np.ndarray, charge: np.ndarray, budget: np.ndarray,
                  last_layer: np.ndarray, surfaces: _Surfaces, field_t: float) -> tuple[np.ndarray, np.ndarray]:
    """Turning angle to, and index of, the nearest layer each particle crosses next.

    Args:
        position, momentum, charge: particle states.
        budget: largest turning angle allowed from here (rad).
        last_layer: layer each particle sits on (excluded), -1 for none.
        surfaces: layer arrays.
        field_t: field (T).

    Shapes:
        position, momentum: (N, 3); charge, budget, last_layer: (N,);
        return: alpha (N,) (inf where none), layer (N,) int64 (-1 where none)
    """
    n = len(position)
    x, y, z = position[:, 0], position[:, 1], position[:, 2]
    pt = np.hypot(momentum[:, 0], momentum[:, 1])
    radius = helix_radius(pt, charge, field_t)
    h = -np.sign(charge * field_t).astype(np.float64)
    phi0 = np.arctan2(momentum[:, 1], momentum[:, 0])
    sin0, cos0 = np.sin(phi0), np.cos(phi0)
    cx, cy = x - h * radius * sin0, y + h * radius * cos0
    dz_dalpha = momentum[:, 2] / pt * radius

    best = np.full(n, np.inf)
    best_layer = np.full(n, -1, dtype=np.int64)
    rows = np.arange(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        if len(surfaces.barrel):
            d = np.hypot(cx, cy)
            # Points of the track circle at angle theta about its centre satisfy
            # |c + R (cos theta, sin theta)| = rho  <=>  cos(theta - theta_c) = k.
            k = (surfaces.rb**2 - (d**2 + radius**2)[:, None]) / (2 * radius * d)[:, None]
            spread = np.arccos(np.clip(k, -1.0, 1.0))
            # theta = phi - h pi/2 on the circle, so alpha = h (theta - theta_start) mod 2 pi.
            base = (h * (np.arctan2(cy, cx) - (phi0 - h * np.pi / 2)))[:, None]
            reachable = np.abs(k) <= 1.0
            cand = np.full(k.shape, np.inf)
            for sign in (1.0, -1.0):
                alpha = np.mod(base + sign * h[:, None] * spread, TWO_PI)
                zc = z[:, None] + dz_dalpha[:, None] * alpha
                ok = (reachable & (alpha > 0) & (alpha <= budget[:, None])
                      & (zc >= surfaces.zb_min) & (zc <= surfaces.zb_max))
                cand = np.where(ok & (alpha < cand), alpha, cand)
            cand[surfaces.barrel[None, :] == last_layer[:, None]] = np.inf
            j = np.argmin(cand, axis=1)
            a = cand[rows, j]
            better = a < best
            best[better] = a[better]
            best_layer[better] = surfaces.barrel[j[better]]
        if len(surfaces.disk):
            alpha = (surfaces.zd[None, :] - z[:, None]) / dz_dalpha[:, None]
            ok = (alpha > 0) & (alpha <= np.minimum(budget, best)[:, None])
            ok &= surfaces.disk[None, :] != last_layer[:, None]
            # The radius is needed only for disks ahead within the budget: a few per particle.
            i, j = np.nonzero(ok)
            phi = phi0[i] + h[i] * alpha[i, j]
            hr = h[i] * radius[i]
            r = np.hypot(cx[i] + hr * np.sin(phi), cy[i] - hr * np.cos(phi))
            inside = (r >= surfaces.rd_min[j]) & (r <= surfaces.rd_max[j])
            cand = np.full(alpha.shape, np.inf)
            cand[i[inside], j[inside]] = alpha[i[inside], j[inside]]
            jj = np.argmin(cand, axis=1)
            a = cand[rows, jj]
            better = a < best
            best[better] = a[better]
            best_layer[better] = surfaces.disk[jj[better]]
    return best, best_layer


def propagate(particles: ParticleSet, layers: Sequence[Layer], *, rng: np.random.Generator,
              field_t: float = 2.0, max_turn: float = math.pi, multiple_scattering: bool = True,
              interaction_rate: float = 0.0, start_layer: np.ndarray | None = None,
              max_crossings: int = 200) -> Crossings:
    """Follow every particle through ``layers`` and return all its layer crossings.

    Args:
        particles: particles at their production vertices.
        layers: the detector layers.
        rng: random generator (multiple scattering).
        field_t: solenoid field along +z (T).
        max_turn: total transverse turning angle after which a particle is dropped (rad).
        multiple_scattering: apply Highland scattering at each crossing.
        interaction_rate: nuclear interactions per radiation length; a particle that
            interacts in a layer stops there (its crossing is marked ``interacted``).
        start_layer: index of the layer each particle starts on (it is not crossed again
            at once), -1 for none; default all -1.
        max_crossings: safety limit on crossings per particle.

    Shapes:
        start_layer: (N_particles,); return: Crossings of K crossings, grouped by step.
    """
    surfaces = _Surfaces(layers)
    x_over_x0 = layer_radiation_lengths(layers)
    n = len(particles)
    idx = np.arange(n)
    pos = particles.vertex.copy()
    mom = particles.momentum.copy()
    charge = particles.charge.astype(np.float64)
    mass = particles.mass
    turned = np.zeros(n)
    last = np.full(n, -1, dtype=np.int64) if start_layer is None else np.asarray(start_layer, np.int64).copy()
    parts: list[Crossings] = []
    for step in range(max_crossings):
        if idx.size == 0:
            break
        alpha, layer = next_crossing(pos, mom, charge, max_turn - turned, last, surfaces, field_t)
        alive = layer >= 0
        idx, pos, mom, charge, mass, turned, alpha, layer = (
            a[alive] for a in (idx, pos, mom, charge, mass, turned, alpha, layer))
        if idx.size == 0:
            break
        pos, mom = helix_step(pos, mom, charge, field_t, alpha)
        turned = turned + alpha
        p = np.linalg.norm(mom, axis=1)
        direction = mom / p[:, None]
        barrel = surfaces.is_barrel[layer]
        r = np.hypot(pos[:, 0], pos[:, 1])
        cos_inc = np.where(
            barrel,
            np.abs(direction[:, 0] * pos[:, 0] + direction[:, 1] * pos[:, 1]) / np.maximum(r, 1e-12),
            np.abs(direction[:, 2]),
        )
        x_eff = x_over_x0[layer] / np.maximum(cos_inc, 1.0 / MAX_PATH_FACTOR)
        interacted = rng.random(idx.size) < interaction_rate * x_eff if interaction_rate > 0 \
            else np.zeros(idx.size, bool)
        parts.append(Crossings(idx, layer, np.full(idx.size, step, np.int64), pos, mom, x_eff, cos_inc,
                               interacted))
        if multiple_scattering:
            beta = p / np.sqrt(p**2 + mass**2)
            theta0 = highland_theta0(p, beta, x_eff, charge)
            mom = scatter(direction, theta0, rng) * p[:, None]
        last = layer
        go_on = ~interacted
        idx, pos, mom, charge, mass, turned, last = (
            a[go_on] for a in (idx, pos, mom, charge, mass, turned, last))
    return Crossings.concat(*parts) if parts else Crossings.empty()
