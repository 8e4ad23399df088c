"""The official TrackML score (Amrouche et al., arXiv:1904.06778).

A candidate is good for a particle when more than half of the candidate's hits come from
the particle and it holds more than half of the particle's hits (both strict). The score is
the summed weight of the hits shared by each good pair, divided by the total weight of the
evaluated hits (1 for a whole event with the official weights, so a selected subset scores
1 when tracked perfectly). Weights come from pT and hit order (:mod:`trackcore.data.weights`).

Shared hits are outside the challenge's rules (one track per hit). Here a particle counts at
most once, through its good candidate with the largest shared weight, so the score cannot
exceed 1 and equals the official score whenever no hit is shared.
"""

from __future__ import annotations

import numpy as np

from trackcore.candidates import TrackCandidates
from trackcore.metrics.matching import TrackMatches, match_tracks
from trackcore.metrics.truth import EventTruth


def score_from_matches(matches: TrackMatches, truth: EventTruth) -> float | None:
    """TrackML score from precomputed matches; None without weights or with zero total weight."""
    if truth.weight_j is None:
        return None
    total = float(truth.weight_j.sum())
    if total <= 0:
        return None
    good = matches.dm
    best = np.zeros(len(truth.particle_id_p))
    np.maximum.at(best, matches.pair_particle[good], matches.weight_shared[good])
    return float(best.sum() / total)


def trackml_score(candidates: TrackCandidates, truth: EventTruth) -> float | None:
    """The TrackML score of one event's candidates (None when the truth has no weights).

    Shapes:
        candidates: (M,) memberships over ``truth.hit_id_j``.
    """
    return score_from_matches(match_tracks(candidates, truth), truth)
