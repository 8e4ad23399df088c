"""The official TrackML hit weights (Amrouche et al., arXiv:1904.06778, phase 1).

weight_j = w_order(ihit_j, nhits) * w_pt(pT), normalised to sum 1 over the event, exactly as
``weight_hits_phase1`` of the challenge library (``trackml-library``, ``trackml/weights.py``):

- Order weight: the proposal ``[10, 8, 6, 5, 3, 3, 3, 5, 6]`` is stretched over the
  particle's ``nhits`` hits by linear interpolation and normalised so that a particle's
  weights sum to 1. ``nhits`` is the particle's ``nhits`` column of the *particles* table
  (not the number of its truth rows). Hits are ranked by ``|tz - vz|``, the distance along
  the beam axis between the hit's true position and the particle's production vertex, with
  the pandas ``rank()`` rule: tied hits share their average rank, and ``ihit = rank - 1``
  is truncated to an integer (two hits tied for first place both get ``ihit = 0``).
  Particles with fewer than 4 hits weigh 0; longer than 20 hits use the 20-hit row and
  hits ranked 20th or later weigh 0.
- pT weight: 0 below 0.05 GeV, 0.2 up to 0.5 GeV, rising linearly to 1 at 3 GeV, 1 above.
- Noise (``particle_id == 0``) and hits of particles absent from the particles table weigh 0.

:func:`official_trackml_weights` takes the two TrackML tables and is what the simulator and
the ACTS reader use; :func:`trackml_weights` is the same rule on plain arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trackcore.data.errors import DataError

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
    """Order ``ihit`` (0 = closest) of each hit among its particle's hits, by distance.

    The challenge library's rule: pandas ``groupby(particle_id)[distance].rank()`` (ties
    get the average rank), minus 1, truncated to an integer. With ``first..last`` the
    0-based sorted positions of a run of tied hits, that is ``(first + last) // 2``.

    Shapes:
        particle_id_j, distance_j: (N_hits,); return: (N_hits,) int64
    """
    particle_id_j = np.asarray(particle_id_j)
    distance_j = np.asarray(distance_j, dtype=np.float64)
    n = len(particle_id_j)
    rank = np.empty(n, dtype=np.int64)
    if n == 0:
        return rank
    order = np.lexsort((distance_j, particle_id_j))
    pid, dist = particle_id_j[order], distance_j[order]
    new_group = np.r_[True, pid[1:] != pid[:-1]]
    new_run = new_group | np.r_[True, dist[1:] != dist[:-1]]
    position = np.arange(n) - np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    starts = np.flatnonzero(new_run)
    ends = np.r_[starts[1:], n] - 1
    run_id = np.cumsum(new_run) - 1
    rank[order] = (position[starts] + position[ends])[run_id] // 2
    return rank


def trackml_weights(particle_id_j: np.ndarray, pt_j: np.ndarray, distance_j: np.ndarray,
                    nhits_j: np.ndarray | None = None) -> np.ndarray:
    """Official TrackML weight of every hit of one event, from plain arrays.

    Args:
        particle_id_j: particle of each hit, 0 for noise (weight 0).
        pt_j: transverse momentum (GeV) of each hit's particle.
        distance_j: distance of the hit from its particle's production vertex; the
            challenge uses ``|tz - vz|`` (see :func:`official_trackml_weights`).
        nhits_j: the ``nhits`` of each hit's particle (the challenge takes it from the
            particles table); None counts the hits given here.

    Shapes:
        all inputs: (N_hits,); return: (N_hits,) float64 summing to 1 (all 0 when no hit
        carries weight).

    Raises:
        ValueError: a hit ranked at or beyond its particle's ``nhits`` (4 to 20): the
            particle has more hits than ``nhits`` says (the challenge library raises too).
    """
    pid = np.asarray(particle_id_j)
    if nhits_j is None:
        _, inverse, counts = np.unique(pid, return_inverse=True, return_counts=True)
        nhits_j = counts[inverse]
    nhits = np.minimum(np.asarray(nhits_j, dtype=np.int64), ORDER_MAX_HITS)
    rank = hit_rank(pid, distance_j)
    valid = (pid != 0) & (nhits >= ORDER_MIN_HITS) & (rank < ORDER_MAX_HITS)
    beyond = valid & (rank >= nhits)
    if beyond.any():
        first = np.flatnonzero(beyond)[0]
        raise ValueError(
            f"{int(beyond.sum())} hit(s) ranked beyond their particle's nhits, e.g. particle_id "
            f"{pid[first]} has nhits {nhits[first]} but at least {rank[first] + 1} hits"
        )
    w = np.zeros(len(pid))
    w[valid] = ORDER_MATRIX[nhits[valid], rank[valid]]
    w *= pt_weight(pt_j)
    total = w.sum()
    return w / total if total > 0 else w


def official_trackml_weights(truth: pd.DataFrame, particles: pd.DataFrame, *,
                             source: str = "") -> np.ndarray:
    """Official TrackML weights of the truth rows, as ``weight_hits_phase1`` computes them.

    Args:
        truth: TrackML truth table (``particle_id, tz`` used; 0 is noise).
        particles: TrackML particles table (``particle_id, vz, px, py, nhits`` used).
        source: where the tables came from, for the error message.

    Shapes:
        return: (len(truth),) float64 aligned with the truth rows, summing to 1 (all 0
        when no hit carries weight).

    Raises:
        DataError: a particle has more truth rows than its ``nhits`` (4..20) says.
    """
    pid = truth["particle_id"].to_numpy(np.int64)
    row = pd.Index(particles["particle_id"].to_numpy(np.int64)).get_indexer(pid)
    known = (row >= 0) & (pid != 0)
    safe = np.where(known, row, 0)
    pt = np.hypot(particles["px"].to_numpy(np.float64), particles["py"].to_numpy(np.float64))
    vz = particles["vz"].to_numpy(np.float64)
    nhits = particles["nhits"].to_numpy(np.int64)
    hit_pid = np.where(known, pid, 0)
    dvz = np.abs(truth["tz"].to_numpy(np.float64) - np.where(known, vz[safe], 0.0))
    try:
        return trackml_weights(hit_pid, np.where(known, pt[safe], 0.0), dvz,
                               np.where(known, nhits[safe], 0))
    except ValueError as err:
        raise DataError(source or "particles", f"inconsistent with the truth table: {err}") from None
