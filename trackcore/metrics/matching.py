"""Track-to-particle matching: the shared-hit counts every tracking metric starts from.

For each (candidate, particle) pair that shares at least one hit, ``n_shared`` hits are in
both. With the candidate's size ``n_track`` (all its hits: noise and unknown hits count) and
the particle's ``n_particle`` hits in the evaluated set:

- purity ``n_shared / n_track``, completeness ``n_shared / n_particle``;
- double majority (DM): purity > 0.5 and completeness > 0.5 (strict, as the TrackML score);
- LHC: purity > 0.75;
- perfect: completeness == 1 and purity > 0.99.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trackcore.candidates import TrackCandidates
from trackcore.metrics.truth import EventTruth

SCHEMES = ("dm", "lhc", "perfect")


@dataclass(frozen=True)
class TrackMatches:
    """Candidate-particle overlaps of one event.

    Shapes:
        track_id_t, size_t, labelled_t: (T,) per distinct candidate (ascending ids);
            ``labelled_t`` counts the candidate's hits with known truth.
        membership_row_m, membership_track_m: (M,) truth row of each candidate membership
            and its candidate index in ``0..T-1``.
        pair_track, pair_particle, n_shared, weight_shared: (Q,) per (candidate index,
            particle row) pair sharing >= 1 hit; ``weight_shared`` is the summed TrackML
            weight of the shared hits (zeros without weights).
        dm, lhc, perfect: (Q,) bool, the matching schemes of each pair.
    """

    track_id_t: np.ndarray
    size_t: np.ndarray
    labelled_t: np.ndarray
    membership_row_m: np.ndarray
    membership_track_m: np.ndarray
    pair_track: np.ndarray
    pair_particle: np.ndarray
    n_shared: np.ndarray
    weight_shared: np.ndarray
    purity: np.ndarray
    completeness: np.ndarray
    dm: np.ndarray
    lhc: np.ndarray
    perfect: np.ndarray

    @property
    def n_tracks(self) -> int:
        return len(self.track_id_t)


def match_tracks(candidates: TrackCandidates, truth: EventTruth) -> TrackMatches:
    """Count the hits every candidate shares with every particle (vectorised, no loops).

    Raises:
        ValueError: candidates name hits that are not in the evaluated event.
    """
    row_m = truth.hit_index.get_indexer(candidates.hit_id)
    if (row_m < 0).any():
        bad = candidates.hit_id[row_m < 0]
        raise ValueError(
            f"event {truth.event_id}: the candidates name {len(np.unique(bad))} hit ids that are not in the "
            f"evaluated event (e.g. {int(bad[0])}); evaluate with the same hit selection the tracker saw"
        )
    track_id_t, track_m = np.unique(candidates.track_id, return_inverse=True)
    n_t = len(track_id_t)
    size_t = np.bincount(track_m, minlength=n_t)
    labelled_t = np.bincount(track_m, weights=truth.labelled_j[row_m], minlength=n_t).astype(np.int64)

    part_m = truth.particle_row_j[row_m]
    on = part_m >= 0
    n_p = max(len(truth.particle_id_p), 1)
    key = track_m[on].astype(np.int64) * n_p + part_m[on]
    keys, inverse, n_shared = np.unique(key, return_inverse=True, return_counts=True)
    weights = truth.weight_j[row_m[on]] if truth.weight_j is not None else np.zeros(int(on.sum()))
    weight_shared = np.bincount(inverse, weights=weights, minlength=len(keys))
    pair_track, pair_particle = keys // n_p, keys % n_p

    purity = n_shared / size_t[pair_track]
    completeness = n_shared / truth.nhits_p[pair_particle]
    return TrackMatches(
        track_id_t=track_id_t,
        size_t=size_t,
        labelled_t=labelled_t,
        membership_row_m=row_m,
        membership_track_m=track_m,
        pair_track=pair_track,
        pair_particle=pair_particle,
        n_shared=n_shared,
        weight_shared=weight_shared,
        purity=purity,
        completeness=completeness,
        dm=(purity > 0.5) & (completeness > 0.5),
        lhc=purity > 0.75,
        perfect=(n_shared == truth.nhits_p[pair_particle]) & (purity > 0.99),
    )
