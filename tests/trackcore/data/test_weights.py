"""Official TrackML hit weights, pinned on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from trackcore.data.weights import ORDER_MATRIX, hit_rank, pt_weight, trackml_weights


def test_nine_hit_row_is_the_proposal() -> None:
    proposal = np.array([10, 8, 6, 5, 3, 3, 3, 5, 6], dtype=float)
    np.testing.assert_allclose(ORDER_MATRIX[9, :9], proposal / proposal.sum())
    assert ORDER_MATRIX[3].sum() == 0  # fewer than 4 hits weigh nothing
    np.testing.assert_allclose(ORDER_MATRIX[4:].sum(axis=1), 1.0)


def test_pt_weight_ramp() -> None:
    np.testing.assert_allclose(pt_weight([0.01, 0.3, 0.5, 1.75, 3.0, 10.0]), [0.0, 0.2, 0.2, 0.6, 1.0, 1.0])


def test_hit_rank_by_distance_within_particle() -> None:
    pid = np.array([5, 7, 5, 5, 7])
    dist = np.array([3.0, 1.0, 1.0, 2.0, 0.5])
    np.testing.assert_array_equal(hit_rank(pid, dist), [2, 1, 0, 1, 0])


def test_event_weights() -> None:
    # Particle 1: 9 hits at pT 3 GeV (pT weight 1); particle 2: 3 hits (too short); noise.
    pid = np.r_[np.ones(9, int), 2 * np.ones(3, int), 0]
    pt = np.r_[np.full(9, 3.0), np.full(3, 3.0), 0.0]
    dist = np.r_[np.arange(9.0)[::-1], np.arange(3.0), 0.0]  # particle 1 given in reverse order
    w = trackml_weights(pid, pt, dist)
    proposal = np.array([10, 8, 6, 5, 3, 3, 3, 5, 6], dtype=float)
    np.testing.assert_allclose(w[:9], (proposal / proposal.sum())[::-1])
    assert w[9:].sum() == 0 and w.sum() == pytest.approx(1.0)
