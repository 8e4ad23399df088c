"""Condensation-point clustering on a hand-built event."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.trackcore.builders.helpers import tracks_by_id
from trackcore.builders import condensation_clustering

X = np.array(
    [
        [0.0, 0.0],  # 0: seed, beta 0.9
        [0.3, 0.0],  # 1: seed candidate (0.6) within t_d of hit 0: assigned to it, skipped as a seed
        [0.6, 0.0],  # 2: 0.6 from hit 0; only seed 1 (skipped) is close: stays unassigned
        [2.0, 0.0],  # 3: seed candidate (0.8), taken by the higher-beta seed 5
        [2.4, 0.0],  # 4
        [2.2, 0.0],  # 5: highest beta, seeds the first track
        [5.0, 5.0],  # 6: lone seed candidate (0.7): a one-hit track
        [5.0, 5.5],  # 7: exactly t_d from hit 6: included
    ],
    np.float32,
)
BETA = np.array([0.9, 0.6, 0.1, 0.8, 0.2, 0.95, 0.7, 0.05])


def test_highest_beta_seeds_take_free_hits_and_assigned_seeds_are_skipped():
    c = condensation_clustering(X, BETA, t_beta=0.5, t_d=0.5)
    assert tracks_by_id(c) == {0: {5, 3, 4}, 1: {0, 1}, 2: {6, 7}}


def test_min_hits_t_beta_hit_ids_and_torch_input():
    c = condensation_clustering(
        torch.from_numpy(X), torch.from_numpy(BETA), t_d=0.5, hit_id=np.arange(8) + 10, min_hits=3
    )
    assert tracks_by_id(c) == {0: {15, 13, 14}}
    high = condensation_clustering(X, BETA, t_beta=0.85, t_d=0.5)  # seeds 5 then 0 only
    assert tracks_by_id(high) == {0: {5, 3, 4}, 1: {0, 1}}
    wide = condensation_clustering(X, BETA, t_d=1.0)  # seed 0 now reaches hit 2
    assert tracks_by_id(wide)[1] == {0, 1, 2}


def test_no_seed_gives_empty_candidates():
    assert len(condensation_clustering(X, BETA, t_beta=0.99)) == 0
    assert len(condensation_clustering(np.zeros((0, 2), np.float32), np.zeros(0))) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"beta": BETA[:3]}, "one 'beta' value"),
        ({"beta": np.where(BETA > 0.8, np.nan, BETA)}, "NaN"),
        ({"beta": BETA, "t_d": 0.0}, "t_d"),
        ({"beta": BETA, "hit_id": np.arange(3)}, "hit_id"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        condensation_clustering(X, **kwargs)
