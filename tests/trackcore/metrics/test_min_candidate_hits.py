"""A candidate below ``min_candidate_hits`` counts for nothing: hand-worked events.

Each case was wrong before the rule applied to efficiency and duplicates (issue 27):
the pieces named here reconstructed particles and made duplicates.
"""

from __future__ import annotations

import math

import pytest

from tests.trackcore.metrics.helpers import tracks, truth_from_tracks
from trackcore.metrics import ParticlesOfInterest, evaluate_tracks

A, B = 11, 22
HITS_A = [1, 2, 3, 4, 5, 6]
HITS_B = [7, 8, 9]


def summary(cands, truth, **poi):
    return evaluate_tracks(cands, truth, ParticlesOfInterest(**poi)).summary()


def test_a_two_hit_piece_is_no_duplicate():
    truth = truth_from_tracks({A: HITS_A})
    # The full track and a 2-hit piece of it: the piece is pure (LHC-matched) but too small.
    s = summary(tracks(HITS_A, [1, 2]), truth)
    assert s["lhc_efficiency"] == 1.0
    assert s["lhc_duplicate_rate"] == 0.0  # was 1.0
    assert s["n_candidates"] == 1
    assert s["lhc_fake_rate"] == 0.0 and s["dm_fake_rate"] == 0.0


def test_a_one_hit_candidate_reconstructs_nothing():
    truth = truth_from_tracks({A: HITS_A})
    s = summary(tracks([3]), truth)
    assert s["n_candidates"] == 0
    assert s["lhc_efficiency"] == 0.0  # was 1.0
    assert math.isnan(s["lhc_fake_rate"])  # no candidate is considered: no denominator


def test_a_two_hit_candidate_of_a_three_hit_particle_is_not_a_dm_match():
    truth = truth_from_tracks({B: HITS_B})
    # purity 1, completeness 2/3: a DM match by the fractions, but only 2 hits.
    ev = evaluate_tracks(tracks([7, 8]), truth, ParticlesOfInterest())
    s = ev.summary()
    assert s["dm_efficiency"] == 0.0 and s["lhc_efficiency"] == 0.0  # were 1.0
    assert math.isnan(s["dm_fake_rate"])
    row = ev.candidates.iloc[0]
    assert not row["considered"] and not row["dm"] and not row["dm_poi"]


def test_the_threshold_is_inclusive_and_configurable():
    truth = truth_from_tracks({A: HITS_A})
    # A 3-hit piece is considered (>= 3): the full track plus it is a duplicate under LHC.
    s = summary(tracks(HITS_A, [1, 2, 3]), truth)
    assert s["n_candidates"] == 2 and s["lhc_duplicate_rate"] == 1.0
    # With min_candidate_hits=4 the piece counts for nothing again.
    s = summary(tracks(HITS_A, [1, 2, 3]), truth, min_candidate_hits=4)
    assert s["n_candidates"] == 1 and s["lhc_duplicate_rate"] == 0.0
    # With min_candidate_hits=1 every candidate counts: the 1-hit candidate is LHC-matched.
    s = summary(tracks([3]), truth, min_candidate_hits=1)
    assert s["lhc_efficiency"] == 1.0 and s["n_candidates"] == 1


def test_small_candidates_do_not_change_binned_duplicates_or_the_trackml_score():
    weights = {h: 1 / 6 for h in HITS_A}
    truth = truth_from_tracks({A: HITS_A}, weights=weights)
    ev = evaluate_tracks(tracks(HITS_A, [1, 2]), truth, ParticlesOfInterest(min_pt=0.0))
    dup = ev.binned_duplicate_fraction("eta", scheme="lhc")
    assert dup.total.sum() == 1 and dup.passed.sum() == 0
    # The TrackML score is the challenge's: the full track scores 1 whatever else exists.
    assert ev.summary()["trackml_score"] == pytest.approx(1.0)
