"""The duplicate-pair check of TrackCandidates is exact for any int64 ids (no key overflow)."""

from __future__ import annotations

import numpy as np
import pytest

from trackcore.candidates import TrackCandidates

BIG = 2**62


def test_track_ids_near_2_62_are_not_false_duplicates():
    # With the key track * (hit span) + hit, track 2**62 times span 4 wraps to 0 in int64:
    # the pairs (1, 0) and (1, 2**62) collided and were reported as duplicates.
    c = TrackCandidates(np.array([1, 4, 1, 4]), np.array([0, 0, BIG, BIG]))
    assert c.n_tracks == 2 and len(c) == 4
    near_max = np.iinfo(np.int64).max
    c = TrackCandidates(np.array([5, 5, 6]), np.array([BIG + 3, near_max, near_max]))
    assert c.n_tracks == 2


def test_true_duplicates_with_huge_ids_are_still_found():
    with pytest.raises(ValueError, match="1 \\(hit_id, track_id\\) pairs are listed more than once"):
        TrackCandidates(np.array([1, 4, 1, 1]), np.array([BIG, BIG, 0, BIG]))
    extremes = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max])
    with pytest.raises(ValueError, match="2 \\(hit_id, track_id\\) pairs"):
        TrackCandidates(np.r_[extremes, extremes], np.array([BIG, 7, BIG, 7]))


def test_duplicate_count_matches_a_set_for_random_int64_ids():
    rng = np.random.default_rng(0)
    for scale in (10, 2**40, 2**62):
        hit = rng.integers(-scale, scale, 400)
        track = rng.integers(0, scale, 400)
        # Reuse some pairs so that duplicates exist at every scale.
        hit[:50], track[:50] = hit[50:100], track[50:100]
        expected = len(hit) - len(set(zip(hit.tolist(), track.tolist(), strict=True)))
        assert expected > 0
        with pytest.raises(ValueError, match=f"^{expected} \\(hit_id, track_id\\)"):
            TrackCandidates(hit, track)
        keep = np.unique(np.stack([hit, track]), axis=1)
        assert len(TrackCandidates(keep[0], keep[1])) == keep.shape[1]
