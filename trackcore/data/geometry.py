"""The TrackML detector layout as Python data, and module ids for points on its layers.

The numbers are public facts of the TrackML detector (Amrouche et al., arXiv:1904.06778),
summarised per (volume, layer) from the challenge's ``detectors.csv``: barrel radii and
half lengths, disk positions and radial extents, sensor thickness, pitch, module counts
and the module tiling (modules along z and phi in the barrel, rings of the disks).
Nothing is read from disk at run time.

Volumes: 7/9 pixel end-caps (disks at -z/+z), 8 pixel barrel, 12/14 short-strip
end-caps, 13 short-strip barrel, 16/18 long-strip end-caps, 17 long-strip barrel. Layer
ids are 2, 4, ... as in TrackML.

Module ids come either from a synthetic segmentation with the real module counts
(barrel: ``1 + iz * n_phi + iphi``; disks: rings from the inside out, each numbered in
phi) or, when a real ``detectors.csv`` table is given, from the nearest real module
centre of the same (volume, layer): see :class:`ModuleLocator`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["barrel", "disk"]
Technology = Literal["pixel", "short_strip", "long_strip"]


@dataclass(frozen=True)
class Layer:
    """One sensitive layer: a barrel cylinder or an end-cap disk.

    Args:
        volume_id: TrackML volume (7..18).
        layer_id: TrackML layer (2, 4, ...).
        kind: ``"barrel"`` (cylinder of radius ``r``) or ``"disk"`` (plane at ``z``).
        technology: ``"pixel"``, ``"short_strip"`` or ``"long_strip"``.
        n_modules: number of modules of the layer in ``detectors.csv``.
        r: nominal radius (mm) of a barrel; mean module-centre radius of a disk.
        z: nominal position (mm) of a disk; 0 for a barrel.
        r_min, r_max: radial extent of the sensitive area (mm; module edges for disks,
            the envelope of module centres for a barrel).
        z_min, z_max: z extent (mm; module edges for a barrel, the envelope of module
            centres for a disk).
        thickness: sensor thickness (mm).
        pitch_u: pitch in the local u direction (r-phi), mm.
        pitch_v: pitch in the local v direction (z for a barrel, r for a disk), mm.
        module_half_u: half width of a module in u (mm); for a disk the largest one (the
            trapezoids of each ring are in ``ring_half_u``).
        module_half_v: half length of a module in v (mm).
        n_z, n_phi: barrel tiling (modules along z, modules around phi).
        ring_r: disk ring centre radii (mm), inner to outer.
        ring_n: modules per ring.
        ring_half_u: disk ring module half widths ``(min_hu, max_hu)`` per ring (mm).
    """

    volume_id: int
    layer_id: int
    kind: Kind
    technology: Technology
    n_modules: int
    r: float
    z: float
    r_min: float
    r_max: float
    z_min: float
    z_max: float
    thickness: float
    pitch_u: float
    pitch_v: float
    module_half_u: float
    module_half_v: float
    n_z: int = 0
    n_phi: int = 0
    ring_r: tuple[float, ...] = ()
    ring_n: tuple[int, ...] = ()
    ring_half_u: tuple[tuple[float, float], ...] = ()

    @property
    def is_barrel(self) -> bool:
        return self.kind == "barrel"

    @property
    def span(self) -> float:
        """Spread of the module centres along the surface normal (mm).

        Neighbouring modules sit at alternating radii (barrel) or z (disks) so that they
        overlap; a second hit on the same layer lies up to this far from the first.
        """
        return (self.r_max - self.r_min) if self.is_barrel else (self.z_max - self.z_min)

    def module_multiplicity(self, r: np.ndarray) -> np.ndarray:
        """Mean number of modules a track crossing the layer at radius ``r`` passes through.

        From the module tiling: barrel, the sum of module widths over the circumference
        plus the excess of module lengths over the layer length; disk, per ring that
        contains ``r``, ``n_ring * width(r) / (2 pi r)`` with the trapezoid width
        interpolated across the ring, summed over the (radially overlapping) rings.
        Never below 1: a crossing of the active area meets at least one module.

        Shapes:
            r: (N,); return: (N,)
        """
        r = np.asarray(r, dtype=np.float64)
        if self.is_barrel:
            phi = self.n_phi * 2 * self.module_half_u / (2 * math.pi * self.r)
            zz = self.n_z * 2 * self.module_half_v / (self.z_max - self.z_min)
            return np.full(r.shape, max(phi + zz - 1, 1.0))
        total = np.zeros(r.shape)
        for rc, n, (hu_min, hu_max) in zip(self.ring_r, self.ring_n, self.ring_half_u, strict=True):
            t = (r - (rc - self.module_half_v)) / (2 * self.module_half_v)
            inside = (t >= 0) & (t <= 1)
            width = 2 * (hu_min + (hu_max - hu_min) * np.clip(t, 0, 1))
            total += np.where(inside, n * width / (2 * math.pi * np.maximum(r, 1e-9)), 0.0)
        return np.maximum(total, 1.0)

    @cached_property
    def overlap_fraction(self) -> float:
        """Mean extra modules per crossing (``module_multiplicity - 1``), over the layer area."""
        if self.is_barrel:
            return float(self.module_multiplicity(np.array([self.r]))[0] - 1)
        r = np.linspace(self.r_min, self.r_max, 2001)
        return float(np.average(self.module_multiplicity(r) - 1, weights=r))

    @property
    def ring_edges(self) -> np.ndarray:
        """Radii (mm) separating adjacent rings of a disk: midpoints of ring centres."""
        rr = np.asarray(self.ring_r, dtype=float)
        return (rr[1:] + rr[:-1]) / 2


def _barrel(volume: int, layer: int, tech: Technology, n: int, r: float, r_min: float, r_max: float,
            half_z: float, t: float, pu: float, pv: float, hu: float, hv: float, n_z: int) -> Layer:
    return Layer(volume, layer, "barrel", tech, n, r, 0.0, r_min, r_max, -half_z, half_z, t, pu, pv,
                 hu, hv, n_z=n_z, n_phi=n // n_z)


def _disk(volume: int, layer: int, tech: Technology, z: float, z_span: float) -> Layer:
    rings = _RINGS[tech]
    n = sum(rings["ring_n"])
    half_v = rings["half_v"]
    return Layer(
        volume, layer, "disk", tech, n, rings["r_mean"], z,
        rings["ring_r"][0] - half_v, rings["ring_r"][-1] + half_v, z - z_span / 2, z + z_span / 2,
        _THICKNESS[tech], _PITCH[tech][0], rings["pitch_v"], rings["ring_half_u"][-1][1], half_v,
        ring_r=rings["ring_r"], ring_n=rings["ring_n"], ring_half_u=rings["ring_half_u"],
    )


_THICKNESS: dict[Technology, float] = {"pixel": 0.15, "short_strip": 0.25, "long_strip": 0.35}
_PITCH: dict[Technology, tuple[float, float]] = {
    "pixel": (0.05, 0.05625), "short_strip": (0.08, 1.2), "long_strip": (0.12, 10.8),
}
# Disk tiling of detectors.csv: ring centre radii, modules per ring, (min, max) module half
# widths of the trapezoids, module half length (module_hv).
_RINGS: dict[Technology, dict] = {
    "pixel": dict(ring_r=(66.0, 140.0), ring_n=(40, 68), ring_half_u=((8.4, 8.4), (8.4, 8.4)),
                  half_v=36.0, r_mean=112.59, pitch_v=0.05625),
    "short_strip": dict(ring_r=(318.0, 470.0, 622.0), ring_n=(54, 56, 60),
                        ring_half_u=((16.4, 24.2), (24.2, 32.2), (32.2, 40.0)),
                        half_v=78.0, r_mean=475.36, pitch_v=1.2),
    "long_strip": dict(ring_r=(828.0, 942.0), ring_n=(48, 50), ring_half_u=((54.0, 64.2), (66.0, 72.0)),
                       half_v=78.0, r_mean=886.16, pitch_v=10.4),
}

_PIXEL_DISK_Z = (600.0, 700.0, 820.0, 960.0, 1100.0, 1300.0, 1500.0)
# A disk's plane is the middle of its module centres, which sit at 2-4 z positions for
# overlaps (the ring-weighted mean of layers_summary.csv is up to 1 mm off for strip disks).
_SHORT_DISK_Z = (1220.0, 1500.0, 1800.0, 2150.0, 2550.0, 2950.0)
_LONG_DISK_Z = (1220.0, 1500.0, 1800.0, 2150.0, 2550.0, 2950.0)


def _endcaps(minus: int, plus: int, tech: Technology, zs: tuple[float, ...], z_span: float) -> list[Layer]:
    # Layer 2 of the -z end-cap is the farthest from the interaction point, as in TrackML.
    neg = [_disk(minus, 2 * (i + 1), tech, -z, z_span) for i, z in enumerate(reversed(zs))]
    pos = [_disk(plus, 2 * (i + 1), tech, z, z_span) for i, z in enumerate(zs)]
    return neg + pos


LAYERS: tuple[Layer, ...] = tuple(
    sorted(
        [
            _barrel(8, 2, "pixel", 224, 32.0, 31.75, 32.25, 491.0, 0.15, 0.05, 0.05625, 8.4, 36.0, 14),
            _barrel(8, 4, "pixel", 448, 72.0, 71.75, 72.25, 491.0, 0.15, 0.05, 0.05625, 8.4, 36.0, 14),
            _barrel(8, 6, "pixel", 728, 116.0, 115.75, 116.25, 491.0, 0.15, 0.05, 0.05625, 8.4, 36.0, 14),
            _barrel(8, 8, "pixel", 1092, 172.0, 171.75, 172.25, 491.0, 0.15, 0.05, 0.05625, 8.4, 36.0, 14),
            _barrel(13, 2, "short_strip", 840, 260.07, 258.5, 261.5, 1084.0, 0.25, 0.08, 1.2, 24.0, 54.0, 21),
            _barrel(13, 4, "short_strip", 1176, 360.07, 358.5, 361.5, 1084.0, 0.25, 0.08, 1.2, 24.0, 54.0, 21),
            _barrel(13, 6, "short_strip", 1638, 500.07, 498.5, 501.5, 1084.0, 0.25, 0.08, 1.2, 24.0, 54.0, 21),
            _barrel(13, 8, "short_strip", 2142, 660.07, 658.5, 661.5, 1084.0, 0.25, 0.08, 1.2, 24.0, 54.0, 21),
            _barrel(17, 2, "long_strip", 2520, 820.07, 818.5, 821.5, 1084.0, 0.35, 0.12, 10.8, 24.0, 54.0, 21),
            _barrel(17, 4, "long_strip", 3192, 1020.07, 1018.5, 1021.5, 1084.0, 0.35, 0.12, 10.8, 24.0, 54.0, 21),
            *_endcaps(7, 9, "pixel", _PIXEL_DISK_Z, 5.0),
            *_endcaps(12, 14, "short_strip", _SHORT_DISK_Z, 9.0),
            *_endcaps(16, 18, "long_strip", _LONG_DISK_Z, 11.0),
        ],
        key=lambda layer: (layer.volume_id, layer.layer_id),
    )
)
"""All 48 layers of the TrackML detector, sorted by (volume_id, layer_id)."""

VOLUME_IDS: tuple[int, ...] = tuple(sorted({layer.volume_id for layer in LAYERS}))


def get_layers(volumes: Iterable[int] | None = None) -> tuple[Layer, ...]:
    """The layers of the given volumes (all when None), sorted by (volume_id, layer_id).

    Raises:
        ValueError: a volume id that is not a TrackML volume.
    """
    if volumes is None:
        return LAYERS
    wanted = set(volumes)
    unknown = wanted - set(VOLUME_IDS)
    if unknown:
        raise ValueError(f"unknown volume id(s) {sorted(unknown)}; TrackML volumes are {list(VOLUME_IDS)}")
    return tuple(layer for layer in LAYERS if layer.volume_id in wanted)


def get_layer(volume_id: int, layer_id: int) -> Layer:
    """The layer with these ids.

    Raises:
        KeyError: no such layer.
    """
    for layer in LAYERS:
        if layer.volume_id == volume_id and layer.layer_id == layer_id:
            return layer
    raise KeyError(f"no layer (volume_id={volume_id}, layer_id={layer_id}) in the TrackML detector")


def synthetic_module_ids(layer: Layer, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Module id of points on ``layer`` from its phi (and z or ring) segmentation.

    Barrel: ``1 + iz * n_phi + iphi`` with ``iz`` the nearest module position in z and
    ``iphi`` counted from phi = -pi, as in ``detectors.csv``. Disk: rings numbered from the
    inside out, each ring numbered in phi from -pi.

    Shapes:
        x, y, z: (N,); return: (N,) int64 in ``1..n_modules``.
    """
    phi = np.arctan2(y, x) + np.pi
    if layer.is_barrel:
        pitch = (layer.z_max - layer.z_min - 2 * layer.module_half_v) / (layer.n_z - 1)
        iz = np.clip(np.rint((z - layer.z_min - layer.module_half_v) / pitch), 0, layer.n_z - 1)
        iphi = np.floor(phi / (2 * np.pi / layer.n_phi)) % layer.n_phi
        return (1 + iz * layer.n_phi + iphi).astype(np.int64)
    ring = np.searchsorted(layer.ring_edges, np.hypot(x, y))
    n = np.asarray(layer.ring_n)[ring]
    offset = np.r_[0, np.cumsum(layer.ring_n)[:-1]][ring]
    iphi = np.floor(phi / (2 * np.pi / n)) % n
    return (1 + offset + iphi).astype(np.int64)


class ModuleLocator:
    """Assigns module ids to points on layers, synthetic or from a real ``detectors.csv``.

    With ``detectors`` given, the id of a point is that of the nearest module centre
    (Euclidean, in 3D) among the modules of the same (volume, layer); one KD-tree per
    layer is built once and reused.

    Args:
        detectors: a TrackML ``detectors.csv`` table (``volume_id, layer_id, module_id,
            cx, cy, cz`` at least, one row or more), or None for the synthetic segmentation.

    Raises:
        ValueError: the table lacks a column or has no rows.
    """

    def __init__(self, detectors: pd.DataFrame | None = None) -> None:
        self._trees: dict[tuple[int, int], tuple[object, np.ndarray]] = {}
        if detectors is not None:
            from scipy.spatial import cKDTree

            missing = {"volume_id", "layer_id", "module_id", "cx", "cy", "cz"} - set(detectors.columns)
            if missing:
                raise ValueError(f"detectors table lacks column(s) {sorted(missing)}")
            if len(detectors) == 0:
                # An empty table would silently fall back to synthetic module ids.
                raise ValueError("detectors table has no modules (no rows)")
            for (v, lay), g in detectors.groupby(["volume_id", "layer_id"], sort=False):
                centres = g[["cx", "cy", "cz"]].to_numpy(np.float64)
                self._trees[(int(v), int(lay))] = (cKDTree(centres), g["module_id"].to_numpy(np.int64))

    @property
    def uses_detectors(self) -> bool:
        return bool(self._trees)

    def missing_layers(self, layers: Iterable[Layer]) -> list[tuple[int, int]]:
        """``(volume_id, layer_id)`` of the given layers that the detectors table lacks (none when synthetic)."""
        if not self._trees:
            return []
        return [(lay.volume_id, lay.layer_id) for lay in layers if (lay.volume_id, lay.layer_id) not in self._trees]

    def locate(self, layer: Layer, x: np.ndarray, y: np.ndarray, z: np.ndarray,
               *, avoid: np.ndarray | None = None) -> np.ndarray:
        """Module id of each point on ``layer``.

        Args:
            layer: the layer the points lie on.
            x, y, z: point coordinates (mm).
            avoid: optional module id per point that must not be returned (the module of
                the first hit of an overlap pair): the next nearest module is taken.

        Shapes:
            x, y, z, avoid: (N,); return: (N,) int64.
        """
        x, y, z = (np.asarray(a, dtype=np.float64) for a in (x, y, z))
        if not self._trees:
            ids = synthetic_module_ids(layer, x, y, z)
            if avoid is not None:
                ids = np.where(ids == avoid, _neighbour_module(layer, x, y, z, ids), ids)
            return ids
        key = (layer.volume_id, layer.layer_id)
        if key not in self._trees:
            raise ValueError(f"detectors table has no modules for (volume_id, layer_id) = {key}")
        tree, module_id = self._trees[key]
        k = 1 if avoid is None else 2
        _, idx = tree.query(np.column_stack([x, y, z]), k=k)
        if avoid is None:
            return module_id[idx]
        first, second = module_id[idx[:, 0]], module_id[idx[:, 1]]
        return np.where(first == avoid, second, first)


def _neighbour_module(layer: Layer, x: np.ndarray, y: np.ndarray, z: np.ndarray,
                      ids: np.ndarray) -> np.ndarray:
    """The phi neighbour of each synthetic module on the side the point is closer to.

    Shapes:
        x, y, z, ids: (N,); return: (N,) int64.
    """
    phi = np.arctan2(y, x) + np.pi
    if layer.is_barrel:
        n = np.full(len(ids), layer.n_phi)
        first = (ids - 1) // layer.n_phi * layer.n_phi + 1
    else:
        ring = np.searchsorted(layer.ring_edges, np.hypot(x, y))
        n = np.asarray(layer.ring_n)[ring]
        first = np.r_[0, np.cumsum(layer.ring_n)[:-1]][ring] + 1
    frac = phi / (2 * np.pi / n)
    iphi = ids - first
    step = np.where(frac - np.floor(frac) >= 0.5, 1, -1)
    return (first + (iphi + step) % n).astype(np.int64)
