"""The official TrackML hit weights (Amrouche et al., arXiv:1904.06778, phase 1).

weight_j = w_order(rank_j, nhits) * w_pt(pT), normalised to sum 1 over the event.

- Order weight: the proposal ``[10, 8, 6, 5, 3, 3, 3, 5, 6]`` is stretched over the
  particle's ``nhits`` hits by linear interpolation and normalised so that a particle's
  weights sum to 1; hits are ranked by distance from the production vertex. Particles with
  fewer than 4 hits weigh 0; longer than 20 hits use the 20-hit row and hits past the 20th
  weigh 0 (as the challenge library does).
- pT weight: 0 below 0.05 GeV, 0.2 up to 0.5 GeV, rising linearly to 1 at 3 GeV, 1 above.
- Noise (``particle_id == 0``) weighs 0.
"""

from __future__ import annotations

import numpy as np

ORDER_PROPOSAL = np.array([10.0, 8.0, 6.0, 5.0, 3.0, 3.0, 3.0, 5.0, 6.0])
ORDER_MIN_HITS = 4
ORDER_MAX_HITS = 20


def _order_matrix() -> np.ndarray:
    w = np.zeros((ORDER_MAX_HITS + 1, ORDER_MAX_HITS))
    for n in range(ORDER_MIN_HITS, ORDER_MAX_HITS + 1):
        support = np.arange(len(ORDER_PROPOSAL)) * (n - 1) / (len(ORDER_PROPOSAL) - 1)
        row = np.interp(np.arange(n), support, ORDER_PROPOSAL)
        w[n, :n] = row / row.sum()
    return w


ORDER_MATRIX = _order_matrix()


def pt_weight(pt: np.ndarray) -> np.ndarray:
    """TrackML pT weight of each value (GeV).

    Shapes:
        pt: (N,); return: (N,)
    """
    return np.interp(np.asarray(pt, dtype=float), [0.05, 0.5, 3.0], [0.2, 0.2, 1.0], left=0.0, right=1.0)


def hit_rank(particle_id_j: np.ndarray, distance_j: np.ndarray) -> np.ndarray:
    """Rank (0 = closest) of each hit among its particle's hits, by distance from the vertex.

    Shapes:
        particle_id_j, distance_j: (N_hits,); return: (N_hits,) int64
    """
    particle_id_j = np.asarray(particle_id_j)
    order = np.lexsort((np.asarray(distance_j), particle_id_j))
    sorted_pid = particle_id_j[order]
    starts = np.r_[0, np.flatnonzero(sorted_pid[1:] != sorted_pid[:-1]) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - group_start
    return rank


def trackml_weights(particle_id_j: np.ndarray, pt_j: np.ndarray, distance_j: np.ndarray) -> np.ndarray:
    """Official TrackML weight of every hit of one event.

    Args:
        particle_id_j: particle of each hit, 0 for noise.
        pt_j: transverse momentum (GeV) of each hit's particle.
        distance_j: distance of the hit from its particle's production vertex (the challenge
            library uses ``|tz - vz|``; any monotonic distance along the track ranks the same).

    Shapes:
        all inputs: (N_hits,); return: (N_hits,) float64 summing to 1 (all 0 when no hit
        carries weight).
    """
    pid = np.asarray(particle_id_j)
    _, inverse, counts = np.unique(pid, return_inverse=True, return_counts=True)
    nhits = counts[inverse]
    rank = hit_rank(pid, distance_j)
    valid = (pid != 0) & (nhits >= ORDER_MIN_HITS) & (rank < ORDER_MAX_HITS)
    w = np.zeros(len(pid))
    w[valid] = ORDER_MATRIX[np.minimum(nhits[valid], ORDER_MAX_HITS), rank[valid]]
    w *= pt_weight(pt_j)
    total = w.sum()
    return w / total if total > 0 else w
