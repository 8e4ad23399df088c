"""The truth graph ("track edges"): consecutive hits of each particle, directed outward.

For each particle its hits are ordered by their distance from the particle's
production vertex; every consecutive pair is an edge from the closer to the farther
hit, so a particle with ``n`` hits gets ``n - 1`` edges and noise or unlabelled hits
(``particle_id == 0``) get none. This is the truth graph of Exa.TrkX/acorn
(ALGORITHMS.md, "Common pieces").

Choices, and why:
- Two hits of one particle on the same layer (TrackML double hits on overlapping
  modules) are ordered by distance like any other pair, giving a short edge between
  them. This keeps every particle a single chain (the "n - 1 edges" invariant) and
  needs no detector knowledge; a layer-aware ordering would branch the chain.
- Distance is the 3D Euclidean distance from the vertex, which grows monotonically
  along the path of any particle that does not curl back (pT above ~0.3 GeV in the
  TrackML barrel). Loopers get a chain in distance order, not in time order.
- Hits of a particle missing from the particles table (e.g. the negative ids of the
  partial-truth events) are ordered from the nominal interaction point (0, 0, 0).
- Exact ties in distance are broken by hit row, so the result is deterministic.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trackcore.data.event import Event

_VERTEX = ("vx", "vy", "vz")
_TRUTH_POS = ("tx", "ty", "tz")


def vertex_distance(pos_j: np.ndarray, vertex_j: np.ndarray) -> np.ndarray:
    """Euclidean distance of every hit from its particle's production vertex.

    Shapes:
        pos_j: (N_hits, 3) mm.
        vertex_j: (N_hits, 3) mm, the vertex of each hit's particle.
        return: (N_hits,) float64.
    """
    pos_j, vertex_j = np.asarray(pos_j, np.float64), np.asarray(vertex_j, np.float64)
    if pos_j.shape != vertex_j.shape or pos_j.ndim != 2 or pos_j.shape[1] != 3:
        raise ValueError(
            f"Expected 'pos_j' and 'vertex_j' of shape (N_hits, 3) "
            f"(got {pos_j.shape} and {vertex_j.shape})"
        )
    return np.linalg.norm(pos_j - vertex_j, axis=1)


def build_track_edges(particle_id_j: np.ndarray, distance_j: np.ndarray) -> np.ndarray:
    """Chain the hits of each particle in order of increasing distance.

    Vectorised: one ``lexsort`` by (particle, distance, row), then consecutive rows of
    the same particle are joined. Hits with ``particle_id == 0`` get no edge; any other
    id (negative ones included) is a particle.

    Args:
        particle_id_j: particle of each hit, 0 for noise or unknown.
        distance_j: distance of each hit from its particle's vertex (any increasing
            measure of "outward" works).

    Shapes:
        particle_id_j: (N_hits,) integer.
        distance_j: (N_hits,) float.
        return: (2, N_edges) int64 of hit rows, ``[source (closer), target (farther)]``,
        grouped by particle id (ascending) and ordered outward within a particle.
    """
    particle_id_j = np.asarray(particle_id_j)
    distance_j = np.asarray(distance_j)
    if particle_id_j.ndim != 1 or particle_id_j.shape != distance_j.shape:
        raise ValueError(
            f"Expected one-dimensional 'particle_id_j' and 'distance_j' of equal length "
            f"(got shapes {particle_id_j.shape} and {distance_j.shape})"
        )
    rows = np.flatnonzero(particle_id_j != 0)
    pid, dist = particle_id_j[rows], distance_j[rows]
    # lexsort sorts by the last key first: particle, then distance, then row for ties.
    order = rows[np.lexsort((rows, dist, pid))]
    pid_sorted = particle_id_j[order]
    same = pid_sorted[:-1] == pid_sorted[1:]
    return np.stack([order[:-1][same], order[1:][same]]).astype(np.int64)


def hit_vertices(particle_id_j: np.ndarray, particles: pd.DataFrame | None) -> np.ndarray:
    """Production vertex of each hit's particle; (0, 0, 0) when the particle is unknown.

    Shapes:
        particle_id_j: (N_hits,).
        return: (N_hits, 3) float64, mm.
    """
    vertex_j = np.zeros((len(particle_id_j), 3))
    if particles is None or len(particles) == 0:
        return vertex_j
    row = pd.Index(particles["particle_id"].to_numpy()).get_indexer(particle_id_j)
    known = row >= 0
    vertex_j[known] = particles[list(_VERTEX)].to_numpy(np.float64)[row[known]]
    return vertex_j


def hit_positions(event: Event, *, use_truth_positions: bool = True) -> np.ndarray:
    """Position of each hit: the true ``tx, ty, tz`` when full truth has them, else ``x, y, z``.

    The true position is the simulated crossing point, free of digitisation, so it
    orders double hits on overlapping modules more reliably.

    Shapes:
        return: (N_hits, 3) float64, mm.
    """
    truth = event.truth
    if (use_truth_positions and event.truth_kind == "full" and truth is not None
            and all(c in truth.columns for c in _TRUTH_POS)):
        pos = truth.set_index("hit_id")[list(_TRUTH_POS)].reindex(event.hits["hit_id"].to_numpy())
        return pos.to_numpy(np.float64)
    return event.hits[["x", "y", "z"]].to_numpy(np.float64)


def event_track_edges(event: Event, *, use_truth_positions: bool = True) -> np.ndarray:
    """The truth graph of an event (see the module docstring for the ordering).

    Args:
        event: an event with truth; an event without truth has no track edges.
        use_truth_positions: order by the true hit positions when full truth has them.

    Shapes:
        return: (2, N_edges) int64 rows of ``event.hits``.
    """
    if event.truth is None:
        return np.zeros((2, 0), dtype=np.int64)
    pid = event.hit_particle_id()
    pos = hit_positions(event, use_truth_positions=use_truth_positions)
    return build_track_edges(pid, vertex_distance(pos, hit_vertices(pid, event.particles)))
