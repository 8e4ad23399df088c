"""Exact DBSCAN on a radius graph: agreement with scikit-learn and boundary semantics."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.cluster import DBSCAN
from sklearn.datasets import make_blobs

from tests.trackcore.builders.helpers import track_sets
from trackcore.builders import dbscan, dbscan_labels


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """The two labelings split the points identically (a bijection between labels)."""
    pairs = np.unique(np.stack([a, b]), axis=1)
    return pairs.shape[1] == np.unique(a).size == np.unique(b).size


@pytest.mark.parametrize(("eps", "min_samples"), [(0.5, 5), (0.8, 4), (0.6, 3), (1.5, 10), (1.0, 20)])
def test_matches_sklearn_on_blobs(eps, min_samples):
    x, _ = make_blobs(1500, n_features=5, centers=25, cluster_std=0.5, random_state=3)
    x = x.astype(np.float32)
    ours = dbscan_labels(x, eps, min_samples)
    ref = DBSCAN(eps=eps, min_samples=min_samples).fit(x)
    core = np.zeros(len(x), bool)
    core[ref.core_sample_indices_] = True
    assert ((ours == -1) == (ref.labels_ == -1)).all()  # same noise
    assert _same_partition(ours[core], ref.labels_[core])  # same clusters of core points
    # Border points: ours joins the nearest core point's cluster; sklearn's joins one of its core neighbours.
    border = np.flatnonzero(~core & (ref.labels_ >= 0))
    d = cdist(x[border], x[core])
    nearest = np.flatnonzero(core)[np.argmin(d, axis=1)]
    assert (ours[border] == ours[nearest]).all()
    within = d <= eps
    for row, j in enumerate(border):
        assert ref.labels_[j] in set(ref.labels_[np.flatnonzero(core)[within[row]]])
    assert border.size > 0  # every case exercises border points


def test_backends_and_torch_input_agree():
    x, _ = make_blobs(400, n_features=4, centers=8, cluster_std=0.3, random_state=1)
    ref = dbscan_labels(x, 0.4, 4)
    assert (dbscan_labels(torch.from_numpy(x), 0.4, 4, backend="faiss-cpu") == ref).all()
    assert (dbscan_labels(x, 0.4, 4, backend="torch") == ref).all()


def test_eps_and_min_samples_boundaries():
    x = np.array([[0.0], [1.0], [2.0], [10.0], [10.5]], np.float32)
    # hit 1 has hits 0 and 2 at distance exactly eps: included, so it is core (3 points with itself)
    assert dbscan_labels(x, 1.0, 3).tolist() == [0, 0, 0, -1, -1]
    assert dbscan_labels(x, 0.999, 3).tolist() == [-1, -1, -1, -1, -1]
    assert dbscan_labels(x, 1.0, 2).tolist() == [0, 0, 0, 1, 1]
    assert dbscan_labels(x, 1.0, 1).tolist() == [0, 0, 0, 1, 1]
    assert dbscan_labels(x, 0.1, 1).tolist() == [0, 1, 2, 3, 4]  # min_samples=1: every point is core


def test_border_point_joins_its_nearest_core_point():
    # Cluster B is listed first (sklearn's visiting order would give the border point to B);
    # the border point (9, 0) lies 10 from B's core (19, 0) and 9 from A's core (0, 0).
    b = [[19, 0], [24, 0], [19, 5], [19, -5]]
    a = [[0, 0], [-5, 0], [0, 5], [0, -5]]
    x = np.array(b + a + [[9, 0]], np.float32)
    labels = dbscan_labels(x, 10.0, 4)
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_dbscan_candidates_hit_ids_and_min_hits():
    x = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]], np.float32)
    c = dbscan(x, 0.15, 2, hit_id=np.arange(6) + 1000)
    assert track_sets(c) == {frozenset({1000, 1001, 1002}), frozenset({1003, 1004})}
    assert track_sets(dbscan(x, 0.15, 2, min_hits=3)) == {frozenset({0, 1, 2})}


def test_empty_input():
    assert dbscan_labels(np.zeros((0, 3), np.float32), 0.5, 3).shape == (0,)
    assert len(dbscan(np.zeros((0, 3), np.float32), 0.5, 3)) == 0


@pytest.mark.parametrize(
    ("x", "eps", "min_samples", "match"),
    [
        (np.zeros(5), 0.5, 3, r"shape \(N, D\)"),
        (np.full((3, 2), np.nan), 0.5, 3, "NaN"),
        (np.zeros((3, 2)), 0.0, 3, "eps"),
        (np.zeros((3, 2)), 0.5, 0, "min_samples"),
    ],
)
def test_bad_inputs_raise(x, eps, min_samples, match):
    with pytest.raises(ValueError, match=match):
        dbscan_labels(x, eps, min_samples)


def test_a_blob_too_dense_for_the_radius_graph_is_named_not_built(monkeypatch):
    from trackcore.builders import DBSCANBuilder, dbscan_clustering, dbscan_graph
    from trackcore.builders.dbscan_clustering import estimated_edges

    rng = np.random.default_rng(0)
    blob = torch.from_numpy(rng.normal(0, 0.01, (3000, 4)).astype(np.float32))  # every pair within eps 0.3
    assert estimated_edges(blob, 0.3) == 3000 * 2999
    assert dbscan_graph(blob, 0.3).edge_index.size(1) == 3000 * 2999  # 9M pairs: under the bound, built
    monkeypatch.setattr(dbscan_clustering, "MAX_EDGES", 1_000_000)
    with pytest.raises(ValueError, match=r"DBSCAN at eps 0.3: ~2,999 of the 3,000 points .* over the 1,000,000"):
        dbscan_graph(blob, 0.3)
    event = type("Event", (), {"hit_id": torch.arange(3000)})()
    with pytest.raises(ValueError, match="nearly one blob"):  # the builders' own calls: the scan's and inference's
        DBSCANBuilder().build_grid(event, {"coords": blob}, [{"eps": 0.3}, {"eps": 0.1}])
    with pytest.raises(ValueError, match="nearly one blob"):
        DBSCANBuilder(eps=0.3)(event, {"coords": blob})
    # spread points: the estimate from 128 of them is near the exact count, and the graph is built
    spread = torch.from_numpy(rng.uniform(0, 10, (3000, 2)).astype(np.float32))
    exact = dbscan_graph(spread, 0.3, check_size=False).edge_index.size(1)
    assert abs(estimated_edges(spread, 0.3) - exact) < 0.2 * exact
    assert dbscan_graph(spread, 0.3).edge_index.size(1) == exact
    # a neighbour cap bounds the graph: no check
    assert dbscan_graph(blob, 0.3, max_num_neighbors=5).edge_index.size(1) == 3000 * 5
