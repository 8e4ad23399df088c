"""From layer crossings to measured hits: inefficiency, module overlaps, smearing, noise.

- Inefficiency: a crossing leaves no hit with probability ``hit_inefficiency``.
- Overlaps: neighbouring modules of a layer overlap (they sit at alternating radii or z).
  A crossing at radius r passes through ``Layer.module_multiplicity(r)`` modules on
  average (from the real module tiling: ~1.2 in the barrels, up to 3.6 at the inner edge
  of the pixel disks), so it leaves that many hits: the extra ones on neighbouring
  modules, offset along the track by up to half the layer's module-centre spread. This
  is what gives real TrackML particles their 10-16 hits.
- Smearing: Gaussian with ``sigma = pitch / sqrt(12)`` in the local u (r-phi) and v (z
  in a barrel, r in a disk) directions; the long strips measure v only to ~3 mm. A
  measured point is kept inside its layer's active extent.
- Noise: ``Poisson(noise_per_module * n_modules)`` hits per layer, uniform over the
  layer's area (real TrackML noise is flat per module, ~0.9 hits each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from trackcore.data.geometry import Layer, ModuleLocator
from trackcore.data.simulation.propagation import Crossings

_SQRT12 = np.sqrt(12.0)
MAX_OVERLAP_STRETCH = 5.0
"""Largest path (in units of the normal offset) between the two hits of an overlap pair."""


@dataclass
class SimHits:
    """Measured hits with their truth.

    Args:
        particle: index of the particle in its ParticleSet, -1 for noise.
        layer: index of the layer in the layer sequence.
        order: position along the particle's trajectory: the crossing number, plus less
            than 0.5 for the extra hits of overlapping modules before or after the
            layer's surface; 0 for noise.
        true_position: true point on the trajectory (mm); the hit itself for noise.
        momentum: momentum arriving at the hit (GeV); 0 for noise.
        position: measured (smeared) point (mm).
        module_id: module of the hit.

    Shapes:
        particle, layer, module_id: (M,) int64; order: (M,) float64; true_position,
        momentum, position: (M, 3)
    """

    particle: np.ndarray
    layer: np.ndarray
    order: np.ndarray
    true_position: np.ndarray
    momentum: np.ndarray
    position: np.ndarray
    module_id: np.ndarray

    def __len__(self) -> int:
        return len(self.particle)

    @staticmethod
    def concat(*parts: SimHits) -> SimHits:
        return SimHits(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(SimHits)))


class _LayerArrays:
    def __init__(self, layers: Sequence[Layer]) -> None:
        self.is_barrel = np.array([lay.is_barrel for lay in layers], dtype=bool)
        self.r = np.array([lay.r for lay in layers])
        self.z = np.array([lay.z for lay in layers])
        self.r_min = np.array([lay.r_min for lay in layers])
        self.r_max = np.array([lay.r_max for lay in layers])
        self.z_min = np.array([lay.z_min for lay in layers])
        self.z_max = np.array([lay.z_max for lay in layers])
        self.half_span = np.array([lay.span / 2 for lay in layers])
        self.sigma_u = np.array([lay.pitch_u for lay in layers]) / _SQRT12
        self.sigma_v = np.array([lay.pitch_v for lay in layers]) / _SQRT12
        self.n_modules = np.array([lay.n_modules for lay in layers])


# Offsets (in half module-centre spreads, along the direction of travel) of the 1st, 2nd, ...
# extra hit of a crossing: after the surface, before it, then closer in.
_EXTRA_OFFSETS = np.array([1.0, -1.0, 0.5, -0.5])


def _offset_points(cr: Crossings, la: _LayerArrays, offset: np.ndarray) -> np.ndarray:
    """Points on the track ``offset`` (mm, along the travel direction) off each layer surface.

    The point is moved along the straight tangent and then put exactly at the offset
    radius (barrel) or z (disk), where the neighbouring module sits.

    Shapes:
        offset: (K,); return: (K, 3)
    """
    pos = cr.position
    direction = cr.momentum / np.linalg.norm(cr.momentum, axis=1, keepdims=True)
    step = offset / np.maximum(cr.cos_incidence, 1.0 / MAX_OVERLAP_STRETCH)
    out = pos + direction * step[:, None]
    barrel = la.is_barrel[cr.layer]
    outward = np.where(direction[:, 0] * pos[:, 0] + direction[:, 1] * pos[:, 1] >= 0, 1.0, -1.0)
    r_out = np.hypot(out[:, 0], out[:, 1])
    scale = np.where(barrel, (la.r[cr.layer] + outward * offset) / np.maximum(r_out, 1e-12), 1.0)
    out[:, 0] *= scale
    out[:, 1] *= scale
    forward = np.where(direction[:, 2] >= 0, 1.0, -1.0)
    out[:, 2] = np.where(barrel, out[:, 2], la.z[cr.layer] + forward * offset)
    return out


def _extra_hit_counts(cr: Crossings, layers: Sequence[Layer], rng: np.random.Generator) -> np.ndarray:
    """Number of extra (overlap) hits of each crossing: multiplicity - 1, randomly rounded.

    Shapes:
        return: (K,) int64 in 0..len(_EXTRA_OFFSETS)
    """
    extra = np.zeros(len(cr))
    r = np.hypot(cr.position[:, 0], cr.position[:, 1])
    for li, layer in enumerate(layers):
        sel = cr.layer == li
        if sel.any():
            extra[sel] = layer.module_multiplicity(r[sel]) - 1.0
    count = np.floor(extra) + (rng.random(len(cr)) < extra - np.floor(extra))
    return np.minimum(count, len(_EXTRA_OFFSETS)).astype(np.int64)


def smear(true_position: np.ndarray, layer: np.ndarray, la: _LayerArrays, rng: np.random.Generator) -> np.ndarray:
    """Measured points: Gaussian pitch/sqrt(12) smearing in local u and v, kept on the layer.

    Shapes:
        true_position: (M, 3); layer: (M,); return: (M, 3)
    """
    x, y, z = true_position.T
    phi = np.arctan2(y, x)
    r = np.hypot(x, y)
    du = rng.normal(0.0, 1.0, len(layer)) * la.sigma_u[layer]
    dv = rng.normal(0.0, 1.0, len(layer)) * la.sigma_v[layer]
    barrel = la.is_barrel[layer]
    # v is z in a barrel, r in a disk; a measurement cannot fall outside the sensitive area.
    new_r = np.where(barrel, r, np.clip(r + dv, la.r_min[layer], la.r_max[layer]))
    new_z = np.where(barrel, np.clip(z + dv, la.z_min[layer], la.z_max[layer]), z)
    cos_phi, sin_phi = np.cos(phi), np.sin(phi)
    return np.column_stack([new_r * cos_phi - du * sin_phi, new_r * sin_phi + du * cos_phi, new_z])


def noise_hits(layers: Sequence[Layer], noise_per_module: float,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Noise hits spread uniformly over the area of each layer.

    Shapes:
        return: layer index (M,) int64, position (M, 3)
    """
    la = _LayerArrays(layers)
    counts = rng.poisson(noise_per_module * la.n_modules)
    layer = np.repeat(np.arange(len(layers)), counts)
    m = len(layer)
    phi = rng.uniform(-np.pi, np.pi, m)
    barrel = la.is_barrel[layer]
    u = rng.random(m)
    # Uniform in area: z uniform on a cylinder, r^2 uniform on a disk.
    z = np.where(barrel, la.z_min[layer] + u * (la.z_max[layer] - la.z_min[layer]), la.z[layer])
    r = np.where(barrel, la.r[layer], np.sqrt(la.r_min[layer] ** 2 + u * (la.r_max[layer] ** 2 - la.r_min[layer] ** 2)))
    return layer, np.column_stack([r * np.cos(phi), r * np.sin(phi), z])


def _locate(locator: ModuleLocator, layers: Sequence[Layer], layer: np.ndarray, position: np.ndarray,
            avoid: np.ndarray | None = None) -> np.ndarray:
    """Module id of every point, one vectorised lookup per layer."""
    out = np.zeros(len(layer), dtype=np.int64)
    order = np.argsort(layer, kind="stable")
    bounds = np.searchsorted(layer[order], np.arange(len(layers) + 1))
    for li in range(len(layers)):
        sel = order[bounds[li]:bounds[li + 1]]
        if sel.size:
            x, y, z = position[sel].T
            out[sel] = locator.locate(layers[li], x, y, z, avoid=None if avoid is None else avoid[sel])
    return out


def digitize(crossings: Crossings, layers: Sequence[Layer], *, rng: np.random.Generator,
             hit_inefficiency: float, noise_per_module: float, locator: ModuleLocator) -> SimHits:
    """Turn crossings into measured hits, with overlap hits and noise.

    Args:
        crossings: all layer crossings of the event.
        layers: the layer sequence the crossings index.
        rng: random generator.
        hit_inefficiency: probability that a crossing leaves no hit.
        noise_per_module: mean noise hits per module.
        locator: module id assignment.

    Shapes:
        return: SimHits of M hits (signal first, then noise).
    """
    la = _LayerArrays(layers)
    main = crossings.select(rng.random(len(crossings)) >= hit_inefficiency)
    n_extra = _extra_hit_counts(main, layers, rng)
    source = np.repeat(np.arange(len(main)), n_extra)
    rank = np.arange(len(source)) - np.repeat(np.cumsum(n_extra) - n_extra, n_extra)
    keep = rng.random(len(source)) >= hit_inefficiency
    source, rank = source[keep], rank[keep]
    extras = main.select(source)
    offset = _EXTRA_OFFSETS[rank] * la.half_span[extras.layer]
    extra_true = _offset_points(extras, la, offset)

    main_meas = smear(main.position, main.layer, la, rng)
    extra_meas = smear(extra_true, extras.layer, la, rng)
    main_module = _locate(locator, layers, main.layer, main_meas)
    extra_module = _locate(locator, layers, extras.layer, extra_meas, avoid=main_module[source])

    noise_layer, noise_pos = noise_hits(layers, noise_per_module, rng)
    noise_module = _locate(locator, layers, noise_layer, noise_pos)
    n_noise = len(noise_layer)
    return SimHits.concat(
        SimHits(main.particle, main.layer, main.step.astype(np.float64), main.position, main.momentum,
                main_meas, main_module),
        SimHits(extras.particle, extras.layer, extras.step + 0.4 * _EXTRA_OFFSETS[rank], extra_true,
                extras.momentum, extra_meas, extra_module),
        SimHits(np.full(n_noise, -1, np.int64), noise_layer, np.zeros(n_noise), noise_pos,
                np.zeros((n_noise, 3)), noise_pos, noise_module),
    )
