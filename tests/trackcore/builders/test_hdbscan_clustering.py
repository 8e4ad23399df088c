"""HDBSCAN wrapper on well-separated blobs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.trackcore.builders.helpers import track_sets
from trackcore.builders import hdbscan


def test_separated_blobs_are_found_and_far_points_are_noise():
    rng = np.random.default_rng(5)
    centres = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0]])
    x = np.concatenate([np.repeat(centres, 8, 0) + 0.1 * rng.normal(size=(24, 3)), [[50.0, 50, 50], [-50.0, 0, 50]]])
    c = hdbscan(torch.from_numpy(x), min_cluster_size=4, hit_id=np.arange(26) + 1)
    assert track_sets(c) == {frozenset(range(1, 9)), frozenset(range(9, 17)), frozenset(range(17, 25))}
    assert track_sets(hdbscan(x, min_cluster_size=4, min_hits=9)) == set()


def test_too_few_points_and_bad_input():
    assert len(hdbscan(np.zeros((2, 3)), min_cluster_size=3)) == 0
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        hdbscan(np.zeros(5))
    with pytest.raises(ValueError, match="hit_id"):
        hdbscan(np.zeros((5, 2)), hit_id=np.arange(3))
