"""Connected components of a scored hit graph."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.trackcore.builders.helpers import track_sets
from trackcore.builders import component_labels, connected_components

# Two tracks (0-1-2-3 and 4-5-6), a fake edge 3-4 joining them, a weak pair 7-8, lone hit 9.
EDGES = np.array([[0, 1, 2, 4, 5, 3, 7], [1, 2, 3, 5, 6, 4, 8]])
SCORES = np.array([0.9, 0.8, 0.95, 0.7, 0.99, 0.2, 0.4])


def test_cut_separates_the_two_tracks_and_leaves_noise_unassigned():
    c = connected_components(EDGES, 10, scores=SCORES, threshold=0.5)
    assert track_sets(c) == {frozenset({0, 1, 2, 3}), frozenset({4, 5, 6})}
    assert sorted(c.track_id.tolist()) == [0, 0, 0, 0, 1, 1, 1]


def test_without_scores_every_edge_is_kept():
    c = connected_components(EDGES, 10)
    assert track_sets(c) == {frozenset(range(7)), frozenset({7, 8})}


def test_cut_is_strict_and_lower_cuts_merge():
    at_edge = connected_components(EDGES, 10, scores=SCORES, threshold=0.4)  # 7-8 scores exactly 0.4: removed
    assert track_sets(at_edge) == {frozenset({0, 1, 2, 3}), frozenset({4, 5, 6})}
    low = connected_components(EDGES, 10, scores=SCORES, threshold=0.1)
    assert track_sets(low) == {frozenset(range(7)), frozenset({7, 8})}


def test_min_hits_and_hit_ids_and_torch_input():
    hit_id = np.arange(10) + 100
    c = connected_components(
        torch.from_numpy(EDGES), 10, scores=torch.from_numpy(SCORES).float(), hit_id=hit_id, min_hits=4
    )
    assert track_sets(c) == {frozenset({100, 101, 102, 103})}


def test_component_labels_are_undirected():
    labels = component_labels(np.array([[1, 3], [0, 2]]), 5)
    assert labels.tolist() == [0, 0, 1, 1, 2]


def test_empty_inputs_give_empty_candidates():
    assert len(connected_components(np.zeros((2, 0), np.int64), 0)) == 0
    assert len(connected_components(np.zeros((2, 0), np.int64), 5)) == 0
    assert len(connected_components(EDGES, 10, scores=SCORES, threshold=1.0)) == 0
    assert component_labels(np.zeros((2, 0), np.int64), 3).tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"edge_index": EDGES, "num_nodes": 5}, "out of range"),
        ({"edge_index": EDGES[0], "num_nodes": 10}, r"shape \(2, E\)"),
        ({"edge_index": EDGES.astype(float), "num_nodes": 10}, "integers"),
        ({"edge_index": EDGES, "num_nodes": 10, "scores": SCORES[:3]}, "one 'scores' value"),
        ({"edge_index": EDGES, "num_nodes": 10, "scores": np.where(SCORES > 0.9, np.nan, SCORES)}, "NaN"),
        ({"edge_index": EDGES, "num_nodes": 10, "hit_id": np.arange(3)}, "hit_id"),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        connected_components(**kwargs)
