"""Holes: detector layers a fitted helix crosses where its candidate has no hit.

A charged particle above ~1 GeV leaves a hit in every sensitive layer it crosses (the layers'
modules overlap, so a layer has no gaps; Fatras simulates no dead modules), so a candidate whose
helix crosses a layer where it has no hit has lost that hit (to another candidate, or to no
candidate), or is not one particle. Production trackers cut on this count (the ACTS CKF's
``maxHoles``); :class:`~trackcore.refinement.refine.HelixRefinement` uses it to fill holes with free hits
and to drop candidates that keep too many.

A layer counts as crossed when the helix meets it inside its sensitive area by at least
``margin`` mm: a barrel cylinder at its radius within its ``z`` extent, a disk at its ``z``
within its radial extent. The helix is the refinement's: the fitted circle (it reaches the
radius ``|centre| + R`` at most) and the fitted ``(r, z)`` line, followed outward from the beam
line (``r`` increasing). It assumes prompt particles that cross the whole detector: a particle born
beyond an inner layer (a displaced decay) shows holes there, and one that ends (a hadronic interaction, a
decay) shows holes beyond its last hit; the refinement's ``span_holes_from`` counts only the holes between
a candidate's hits (measured in ``docs/refinement.md``).

On ACTS ttbar pixel events the layer geometry is the TrackML detector's
(:data:`trackcore.data.geometry.LAYERS`: the ACTS generic detector has the same pixel layers).

Usage::

    from trackcore.refinement.holes import LayerTable
    table = LayerTable.of_volumes((7, 8, 9))
    index = table.index(volume_id, layer_id)       # each hit's layer, -1 outside the table
    crossed = table.crossed(fits, margin=1.0)       # (G, L) bool from HelixFits
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trackcore.data.geometry import LAYERS, Layer


@dataclass(frozen=True)
class LayerTable:
    """The layers holes are counted on, as arrays.

    Shapes:
        key: (L,) ascending ``volume_id * 1000 + layer_id``; barrel: (L,) bool; r, z, r_min,
        r_max, z_min, z_max: (L,) float64 (mm), as :class:`~trackcore.data.geometry.Layer`.
    """

    key: np.ndarray
    barrel: np.ndarray
    r: np.ndarray
    z: np.ndarray
    r_min: np.ndarray
    r_max: np.ndarray
    z_min: np.ndarray
    z_max: np.ndarray

    @classmethod
    def of_layers(cls, layers: tuple[Layer, ...]) -> LayerTable:
        if not layers:
            raise ValueError("a layer table needs at least one layer")
        layers = tuple(sorted(layers, key=lambda lay: (lay.volume_id, lay.layer_id)))

        def col(name: str) -> np.ndarray:
            return np.array([getattr(lay, name) for lay in layers], dtype=np.float64)

        return cls(
            key=np.array([lay.volume_id * 1000 + lay.layer_id for lay in layers], dtype=np.int64),
            barrel=np.array([lay.kind == "barrel" for lay in layers]),
            r=col("r"), z=col("z"), r_min=col("r_min"), r_max=col("r_max"), z_min=col("z_min"), z_max=col("z_max"),
        )

    @classmethod
    def of_volumes(cls, volumes: tuple[int, ...] | None) -> LayerTable:
        """The TrackML detector's layers of ``volumes`` (every layer when None)."""
        chosen = tuple(lay for lay in LAYERS if volumes is None or lay.volume_id in volumes)
        if not chosen:
            raise ValueError(f"no TrackML layer in volumes {volumes}")
        return cls.of_layers(chosen)

    def __len__(self) -> int:
        return len(self.key)

    def index(self, volume_id: np.ndarray, layer_id: np.ndarray) -> np.ndarray:
        """Each hit's row in the table, -1 for a (volume, layer) it does not hold.

        Shapes:
            volume_id, layer_id: (N,) int; returns (N,) int64.
        """
        key = np.asarray(volume_id, dtype=np.int64) * 1000 + np.asarray(layer_id, dtype=np.int64)
        where = np.minimum(np.searchsorted(self.key, key), len(self.key) - 1)
        return np.where(self.key[where] == key, where, -1)

    def crossed(self, fits, margin: float = 0.0) -> np.ndarray:
        """Which layers each helix crosses inside the sensitive area by at least ``margin`` mm.

        Args:
            fits: :class:`~trackcore.refinement.helix.HelixFits` of G candidates.

        Shapes:
            returns (G, L) bool.
        """
        centre = np.hypot(fits.mx + fits.a / 2, fits.my + fits.b / 2)
        reach = np.where(fits.line, np.inf, centre + fits.radius)[:, None]  # farthest radius of the circle
        ur, uz = fits.ur[:, None], fits.uz[:, None]
        r0, z0 = fits.r0[:, None], fits.z0[:, None]
        steep = np.abs(ur) > 1e-9
        flat = np.abs(uz) > 1e-9
        with np.errstate(invalid="ignore", divide="ignore"):
            z_at_r = z0 + (self.r[None] - r0) * uz / np.where(steep, ur, 1.0)  # barrels
        r_at_z = self.crossing_radius(fits)  # disks (the disk columns; NaN where the line runs parallel)
        barrel = (steep & (reach > self.r[None]) & (z_at_r > self.z_min[None] + margin)
                  & (z_at_r < self.z_max[None] - margin))
        disk = (flat & (r_at_z > self.r_min[None] + margin)
                & (r_at_z < np.minimum(self.r_max[None], reach) - margin))
        return np.where(self.barrel[None], barrel, disk)

    def crossing_radius(self, fits) -> np.ndarray:
        """The transverse radius at which each helix's ``(r, z)`` line meets each layer: a barrel's
        radius, or the line's radius at a disk's ``z`` (NaN where the line runs parallel to it).

        Shapes:
            returns (G, L) float64.
        """
        ur, uz = fits.ur[:, None], fits.uz[:, None]
        flat = np.abs(uz) > 1e-9
        with np.errstate(invalid="ignore", divide="ignore"):
            r_at_z = np.where(flat, fits.r0[:, None] + (self.z[None] - fits.z0[:, None]) * ur / np.where(flat, uz, 1.0),
                              np.nan)
        return np.where(self.barrel[None], self.r[None], r_at_z)

    def holes(self, fits, group: np.ndarray, layer: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Crossed layers (:meth:`crossed`) where a candidate has no hit.

        Shapes:
            group: (n,) candidate of each hit in ``[0, G)``; layer: (n,) its row (:meth:`index`,
            -1 ignored); returns (G, L) bool.
        """
        crossed = self.crossed(fits, margin)
        have = np.zeros_like(crossed)
        inside = layer >= 0
        have[group[inside], layer[inside]] = True
        return crossed & ~have
