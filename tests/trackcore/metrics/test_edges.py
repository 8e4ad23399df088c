"""Edge efficiency and purity on a hand-built graph."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trackcore.metrics import EdgeMetrics, edge_metrics, edge_truth

# Hits 0-3: particle 1 (truth 0-1-2-3), hits 4-6: particle 2 (4-5-6), hit 7 noise.
TRACK_EDGES = np.array([[0, 1, 2, 4, 5], [1, 2, 3, 5, 6]])
PID = np.array([1, 1, 1, 1, 2, 2, 2, 0])
# Predicted: two truth edges (one reversed), a same-particle skip edge 0-2, a fake 3-4, noise 6-7.
GRAPH = np.array([[0, 2, 0, 3, 6], [1, 1, 2, 4, 7]])


def test_graph_efficiency_and_purity():
    m = edge_metrics(GRAPH, TRACK_EDGES, 8)
    assert (m.n_edges, m.n_true_kept, m.n_target, m.n_target_found) == (5, 2, 5, 2)
    assert m.efficiency == pytest.approx(2 / 5) and m.purity == pytest.approx(2 / 5)
    same = edge_metrics(GRAPH, TRACK_EDGES, 8, particle_id_j=PID, label="same_particle")
    assert same.purity == pytest.approx(3 / 5)  # the skip edge joins one particle


def test_scores_cut_and_auc():
    scores = torch.tensor([0.9, 0.8, 0.4, 0.2, 0.6])
    m = edge_metrics(GRAPH, TRACK_EDGES, 8, scores=scores, threshold=0.5)
    # kept: 0-1, 2-1 (true), 6-7 (false)
    assert (m.n_edges, m.n_true_kept, m.n_target_found) == (3, 2, 2)
    assert m.auc == pytest.approx(1.0)  # both true edges outscore every false one
    assert math.isnan(edge_metrics(GRAPH, TRACK_EDGES, 8, scores=np.zeros(5), threshold=0.5).purity)


def test_target_restriction_and_truth_labels():
    target = PID == 1
    m = edge_metrics(GRAPH, TRACK_EDGES, 8, target_j=target)
    assert m.n_target == 3 and m.n_target_found == 2
    assert edge_truth(GRAPH, 8, track_edges=TRACK_EDGES).tolist() == [True, True, False, False, False]
    assert edge_truth(GRAPH, 8, particle_id_j=PID, label="same_particle").tolist() == [True, True, True, False, False]


def test_combine_pools_counts():
    a = EdgeMetrics(n_edges=10, n_true_kept=5, n_target=8, n_target_found=4)
    b = EdgeMetrics(n_edges=30, n_true_kept=25, n_target=2, n_target_found=2)
    c = EdgeMetrics.combine([a, b])
    assert c.purity == pytest.approx(30 / 40) and c.efficiency == pytest.approx(6 / 10)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        edge_metrics(np.zeros((3, 2), int), TRACK_EDGES, 8)
    with pytest.raises(ValueError, match="outside"):
        edge_metrics(np.array([[0], [9]]), TRACK_EDGES, 8)
    with pytest.raises(ValueError, match="one score per edge"):
        edge_metrics(GRAPH, TRACK_EDGES, 8, scores=np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        edge_metrics(GRAPH, TRACK_EDGES, 8, scores=np.array([0.1, np.nan, 0.2, 0.3, 0.4]))
