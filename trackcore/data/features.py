"""Scaled node features of hits: cylindrical coordinates, pseudorapidity and cell features.

The scaling follows the GNN tracking literature (Exa.TrkX, acorn, HGNN, EggNet):
``r/1000, phi/pi, z/1000`` with ``r, z`` in mm and ``phi`` in rad, so that every
coordinate of the TrackML detector lies within about [-3, 3]. The pseudorapidity of
the hit position (seen from the origin) is added unscaled (|eta| < ~4 in TrackML).
TrackML cells give two optional features per hit: the number of cells of its cluster
and their summed charge.

No feature is ever written non-finite: a hit on the beam axis (``x = y = 0``, where the
pseudorapidity is infinite; no detector measures there) or any value that overflows
float32 is a :class:`~trackcore.data.errors.DataError` naming the event and the hits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trackcore.data.errors import DataError

# Scales that bring the features to O(1) (ALGORITHMS.md, "Common pieces").
R_SCALE_MM = 1000.0
Z_SCALE_MM = 1000.0
PHI_SCALE_RAD = np.pi
# A TrackML pixel cluster has ~1-30 cells and a summed charge of ~0.1-25.
CELL_COUNT_SCALE = 10.0
CELL_CHARGE_SCALE = 10.0

BASE_FEATURES: tuple[str, ...] = ("r", "phi", "z")
ETA_FEATURE: tuple[str, ...] = ("eta",)
CELL_FEATURES: tuple[str, ...] = ("cell_count", "cell_charge")


def cylindrical(
    x: np.ndarray, y: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cylindrical coordinates about the beam (z) axis, unscaled.

    Shapes:
        x, y, z: (N_hits,) in mm.
        return: ``(r, phi, z)``, each (N_hits,); ``r`` in mm, ``phi`` in (-pi, pi].
    """
    return np.hypot(x, y), np.arctan2(y, x), np.asarray(z)


def pseudorapidity(r: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Pseudorapidity ``eta = asinh(z / r)`` of a position or a momentum ``(pT, pz)``.

    ``asinh(z/r)`` equals ``-ln tan(theta/2)`` and stays finite near the beam axis
    except at ``r == 0``, where it is ``+-inf`` (``nan`` for ``r == z == 0``).

    Shapes:
        r, z: (N,); return: (N,).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.arcsinh(np.asarray(z) / np.asarray(r))


def feature_names(*, use_eta: bool = True, use_cells: bool = False) -> tuple[str, ...]:
    """Names of the columns of :func:`hit_features`, in order."""
    return BASE_FEATURES + (ETA_FEATURE if use_eta else ()) + (CELL_FEATURES if use_cells else ())


def cell_features(hit_id: np.ndarray, cells: pd.DataFrame) -> np.ndarray:
    """Number of cells and summed charge of each hit's cluster, scaled to O(1).

    A hit without cells gets zeros (e.g. cells written for a subset of hits).

    Args:
        hit_id: the hits to describe.
        cells: TrackML cells table (``hit_id, ch0, ch1, value``).

    Shapes:
        hit_id: (N_hits,).
        return: (N_hits, 2) float64: ``cell_count / 10``, ``charge_sum / 10``.
    """
    agg = cells.groupby("hit_id", sort=False)["value"].agg(["size", "sum"])
    agg = agg.reindex(hit_id, fill_value=0)
    return np.stack(
        [agg["size"].to_numpy(np.float64) / CELL_COUNT_SCALE,
         agg["sum"].to_numpy(np.float64) / CELL_CHARGE_SCALE],
        axis=1,
    )


def hit_features(
    hits: pd.DataFrame,
    *,
    cells: pd.DataFrame | None = None,
    use_eta: bool = True,
    source: str = "",
) -> np.ndarray:
    """Scaled node features ``r/1000, phi/pi, z/1000[, eta][, cell_count, cell_charge]``.

    Column order is :func:`feature_names`; cell columns are present exactly when
    ``cells`` is given. Every feature is finite.

    Args:
        hits: TrackML hits table (``hit_id, x, y, z``, mm).
        cells: TrackML cells table, or None for no cell features.
        use_eta: append the pseudorapidity of the hit position.
        source: the event the hits come from (its file prefix), named in errors.

    Shapes:
        return: (N_hits, F) float32 with F = 3 + use_eta + 2 * (cells is not None).

    Raises:
        DataError: with ``use_eta``, a hit at ``r == 0`` (infinite pseudorapidity); any
            feature that is not a finite float32 (e.g. a coordinate of 1e300).
    """
    where = source or "hits"
    hit_id = hits["hit_id"].to_numpy()
    r, phi, z = cylindrical(
        hits["x"].to_numpy(np.float64), hits["y"].to_numpy(np.float64),
        hits["z"].to_numpy(np.float64),
    )
    cols = [r / R_SCALE_MM, phi / PHI_SCALE_RAD, z / Z_SCALE_MM]
    if use_eta:
        on_axis = r == 0
        if on_axis.any():
            raise DataError(
                where,
                f"{int(on_axis.sum())} hit(s) on the beam axis (x = y = 0), where the pseudorapidity "
                f"is infinite and no detector measures: hit_id {hit_id[on_axis][:3].tolist()}",
            )
        cols.append(pseudorapidity(r, z))
    x = np.stack(cols, axis=1)
    if cells is not None:
        x = np.concatenate([x, cell_features(hit_id, cells)], axis=1)
    with np.errstate(over="ignore"):
        x = x.astype(np.float32)
    bad = ~np.isfinite(x)
    if bad.any():
        names = feature_names(use_eta=use_eta, use_cells=cells is not None)
        rows, cols_bad = np.nonzero(bad)
        raise DataError(
            where,
            f"{int(bad.any(axis=1).sum())} hit(s) with a non-finite float32 feature "
            f"{sorted({names[c] for c in cols_bad})}: hit_id {hit_id[np.unique(rows)][:3].tolist()}",
        )
    return x


def particle_kinematics(
    particles: pd.DataFrame | None, particle_id_p: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pT, eta and production vertex of the given particles; NaN where the particle is not in the table.

    Particle ids are matched as exact int64 (TrackML ids exceed 2**53).

    Shapes:
        particle_id_p: (N_particles,).
        return: pt (N_particles,), eta (N_particles,), vertex (N_particles, 3).
    """
    n = len(particle_id_p)
    pt, eta, vertex = np.full(n, np.nan), np.full(n, np.nan), np.full((n, 3), np.nan)
    if particles is None or n == 0:
        return pt, eta, vertex
    row = pd.Index(particles["particle_id"].to_numpy(np.int64)).get_indexer(np.asarray(particle_id_p, np.int64))
    known = row >= 0
    p = particles.iloc[row[known]]
    pt[known] = np.hypot(p["px"].to_numpy(np.float64), p["py"].to_numpy(np.float64))
    eta[known] = pseudorapidity(pt[known], p["pz"].to_numpy(np.float64))
    vertex[known] = p[["vx", "vy", "vz"]].to_numpy(np.float64)
    return pt, eta, vertex
