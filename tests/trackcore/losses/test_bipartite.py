"""HGNN's bipartite targets: particle-to-super-node matching, edge labels, the sine schedule."""

from __future__ import annotations

import math

import pytest
import torch

from trackcore.losses import bipartite_targets, embedding_loss_weight, match_particles_to_super_nodes


def _event():
    # hits 0-2: particle 7, hits 3-5: particle 9, hit 6: noise; super-nodes 0, 1, 2
    pid = torch.tensor([7, 7, 7, 9, 9, 9, 0])
    hit = torch.tensor([0, 0, 1, 1, 2, 3, 3, 4, 5, 5, 6])
    sup = torch.tensor([0, 1, 0, 1, 0, 1, 2, 1, 1, 2, 2])
    score = torch.tensor([0.9, 0.1, 0.8, 0.3, 0.7, 0.2, 0.6, 0.3, 0.4, 0.5, 0.9])
    return pid, torch.stack([hit, sup]), score


def test_matching_maximises_the_summed_scores_one_to_one():
    pid, index, score = _event()
    # W[7] = {0: 2.4, 1: 0.4}; W[9] = {1: 0.9, 2: 1.1}: 7 -> 0 and 9 -> 2 (total 3.5) beat 9 -> 1
    assert match_particles_to_super_nodes(index, score, pid, 3).tolist() == [7, 0, 9]
    # a particle never takes two super-nodes, even when both would be its best
    score2 = score.clone()
    score2[1] = 5.0  # W[7, 1] = 5.3: 7 -> 1 (5.3) + 9 -> 2 (1.1) beats 7 -> 0 (2.4) + 9 -> 1 (0.9)
    assert match_particles_to_super_nodes(index, score2, pid, 3).tolist() == [0, 7, 9]


def test_labels_follow_the_matching_and_noise_is_never_true():
    pid, index, score = _event()
    targets = bipartite_targets(index, score, pid, 3)
    expected = [1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0]
    assert targets.label_e.tolist() == expected
    assert targets.label_e.dtype == score.dtype


def test_more_particles_than_super_nodes_leaves_some_unmatched():
    pid = torch.tensor([1, 2, 3])
    index = torch.tensor([[0, 1, 2], [0, 0, 0]])
    matched = match_particles_to_super_nodes(index, torch.tensor([0.2, 0.9, 0.5]), pid, 1)
    assert matched.tolist() == [2]


def test_no_real_particle_matches_nothing():
    out = match_particles_to_super_nodes(torch.tensor([[0, 1], [0, 1]]), torch.tensor([0.5, 0.5]),
                                         torch.tensor([0, 0]), 2)
    assert out.tolist() == [0, 0]


def test_bad_inputs():
    pid, index, score = _event()
    with pytest.raises(ValueError, match="non-negative matching weights"):
        match_particles_to_super_nodes(index, -score, pid, 3)
    with pytest.raises(ValueError, match="bipartite_index"):
        match_particles_to_super_nodes(index[:, :3], score, pid, 3)
    with pytest.raises(ValueError, match="past the hits or the super-nodes"):
        match_particles_to_super_nodes(index, score, pid, 2)


def test_sine_schedule():
    assert embedding_loss_weight(0, 10) == 1.0
    assert embedding_loss_weight(5, 10) == pytest.approx(1 - math.sin(math.pi / 4))
    assert embedding_loss_weight(9, 10) == pytest.approx(1 - math.sin(math.pi * 9 / 20))
    assert embedding_loss_weight(10, 10) == 0.0 and embedding_loss_weight(50, 10) == 0.0
    assert embedding_loss_weight(0, 0) == 0.0
    weights = [embedding_loss_weight(e, 20) for e in range(21)]
    assert all(a > b for a, b in zip(weights[:20], weights[1:20], strict=False))
    with pytest.raises(ValueError):
        embedding_loss_weight(-1, 10)
