"""The builder objects: their settings are checked and named, their outputs checked, their grids ordered, and
each builds what the function it wraps builds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from tests.trackcore.builders.helpers import track_sets
from tests.trackcore.builders.test_walkthrough import EDGE_INDEX, EXPECTED, RADIUS, SCORES, N
from trackcore.builders import (
    AssignmentOptions,
    CondensationPoints,
    DBSCANBuilder,
    EdgeComponents,
    HDBSCANBuilder,
    SoftAssignment,
    TrackBuilder,
    assign,
    cc_and_walk,
    condensation_clustering,
    connected_components,
    dbscan,
    grid_points,
    module_key,
)

HIT_ID = torch.arange(N) + 1000


def graph_event() -> Data:
    """The walkthrough test's scored graph as an event: hit ``j`` at radius ``RADIUS[j]`` (pos = (r, 0, 0))."""
    pos = torch.zeros(N, 3)
    pos[:, 0] = torch.from_numpy(RADIUS).float()
    return Data(edge_index=torch.from_numpy(EDGE_INDEX), pos=pos, hit_id=HIT_ID, num_nodes=N)


GRAPH_OUTPUTS = {"edge_score": torch.from_numpy(SCORES).float()}

# A soft assignment of 8 hits to 3 super-nodes, (hit, super-node, score): hits 0-3 are super-node 0's, 4-7
# super-node 1's; hit 5 also scores 0.75 on super-node 2 and hit 3 0.6 on super-node 1. Hits 2 and 3 sit on one
# detector module, so "matching" gives super-node 0 only one of them.
BIPARTITE = [(0, 0, 0.9), (1, 0, 0.9), (2, 0, 0.95), (3, 0, 0.8), (3, 1, 0.6), (4, 1, 0.8), (5, 1, 0.85),
             (5, 2, 0.75), (6, 1, 0.9), (6, 2, 0.3), (7, 1, 0.72), (7, 0, 0.2)]  # fmt: skip
MODULE = torch.tensor([1, 2, 3, 3, 4, 5, 6, 7])


def bipartite_event() -> tuple[Data, dict[str, torch.Tensor]]:
    event = Data(hit_id=torch.arange(8) + 100, num_nodes=8, volume_id=torch.full((8,), 8),
                 layer_id=torch.full((8,), 2), module_id=MODULE)
    outputs = {"bipartite_hit": torch.tensor([h for h, _, _ in BIPARTITE]),
               "bipartite_super": torch.tensor([s for _, s, _ in BIPARTITE]),
               "bipartite_score": torch.tensor([w for *_, w in BIPARTITE])}
    return event, outputs


def same(a, b) -> bool:
    """Identical candidates: the same (hit id, track id) rows in the same order."""
    return a.to_frame().equals(b.to_frame())


@pytest.mark.parametrize(
    ("builder", "settings", "message"),
    [
        (DBSCANBuilder, {"eps": 0.0}, r"'eps' to be a finite number > 0"),
        (DBSCANBuilder, {"eps": float("inf")}, r"'eps' to be a finite number > 0"),
        (DBSCANBuilder, {"min_samples": 0}, r"'min_samples' >= 1"),
        (DBSCANBuilder, {"min_hits": -1}, r"'min_hits' >= 0"),
        (CondensationPoints, {"t_beta": 1.0}, r"t_beta must be in \[0, 1\)"),
        (CondensationPoints, {"t_beta": -0.1}, r"t_beta must be in \[0, 1\)"),
        (CondensationPoints, {"t_d": 0.0}, r"'t_d' to be a finite number > 0"),
        (CondensationPoints, {"min_hits": 2.5}, r"'min_hits' to be an integer"),
        (HDBSCANBuilder, {"min_cluster_size": 1}, r"'min_cluster_size' >= 2"),
        (HDBSCANBuilder, {"min_hits": -1}, r"'min_hits' >= 0"),
        (EdgeComponents, {"cut": 1.5}, r"cut must be in \[0, 1\]"),
        (EdgeComponents, {"cut": -0.1}, r"cut must be in \[0, 1\]"),
        (EdgeComponents, {"min_hits": -1}, r"'min_hits' >= 0"),
        (SoftAssignment, {"method": "greedy"}, "Unknown assignment method 'greedy'"),
        (SoftAssignment, {"k": 0}, r"'k' >= 1"),
        (SoftAssignment, {"min_hits": -1}, r"'min_hits' >= 0"),
        (SoftAssignment, {"threshold": 1.5}, r"threshold must be a number in \[0, 1\]"),
        (SoftAssignment, {"min_weight": -3.0}, r"min_weight must be a number in \[0, 1\]"),
    ],
)
def test_bad_settings_are_named(builder, settings, message):
    with pytest.raises(ValueError, match=message):
        builder(**settings)
    with pytest.raises(ValueError, match=message):  # a scan's change is checked as at construction
        builder().with_settings(**settings)


def test_settings_and_with_settings():
    builder = DBSCANBuilder(eps=0.3, min_samples=2, min_hits=3)
    assert builder.settings() == {"eps": 0.3, "min_samples": 2, "min_hits": 3}
    assert list(SoftAssignment().settings()) == ["method", "threshold", "min_weight", "k", "min_hits"]
    changed = builder.with_settings(eps=0.5)
    assert changed == DBSCANBuilder(eps=0.5, min_samples=2, min_hits=3) and builder.eps == 0.3  # a copy
    assert builder.with_settings() == builder
    with pytest.raises(ValueError, match=r"DBSCANBuilder has no settings \['radius', 'threshold'\] "
                                         r"\(it has \['eps', 'min_hits', 'min_samples'\]\)"):
        builder.with_settings(threshold=0.5, radius=0.1, eps=0.2)
    with pytest.raises(ValueError, match=r"SoftAssignment has no settings \['eps'\]"):
        SoftAssignment().with_settings(eps=0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        builder.eps = 0.5  # type: ignore[misc]


def test_reads_and_check_outputs_name_missing_outputs():
    assert DBSCANBuilder.reads == HDBSCANBuilder.reads == ("coords",)
    assert CondensationPoints.reads == ("coords", "beta")
    assert EdgeComponents.reads == ("edge_score",)
    assert SoftAssignment.reads == ("bipartite_hit", "bipartite_super", "bipartite_score")
    x = torch.zeros(4, 2)
    CondensationPoints().check_outputs({"coords": x, "beta": torch.zeros(4), "embedding": x})  # all there
    with pytest.raises(ValueError, match=r"CondensationPoints reads the model outputs \['beta'\]; "
                                         r"this model gives \['coords'\]"):
        CondensationPoints().check_outputs({"coords": x, "beta": None})  # None counts as missing
    with pytest.raises(ValueError, match=r"SoftAssignment reads the model outputs \['bipartite_hit', "
                                         r"'bipartite_super', 'bipartite_score'\]; this model gives \['coords'\]"):
        SoftAssignment().check_outputs({"coords": x})
    # calling a builder checks first
    event = Data(hit_id=torch.arange(4), num_nodes=4)
    with pytest.raises(ValueError, match=r"DBSCANBuilder reads the model outputs \['coords'\]"):
        DBSCANBuilder()(event, {"beta": torch.zeros(4)})
    with pytest.raises(ValueError, match=r"DBSCANBuilder reads the model outputs \['coords'\]"):
        DBSCANBuilder().build_grid(event, {}, [{"eps": 0.1}])
    with pytest.raises(ValueError, match=r"EdgeComponents reads the model outputs \['edge_score'\]"):
        EdgeComponents()(graph_event(), {})
    with pytest.raises(NotImplementedError, match="must implement __call__"):
        TrackBuilder()(event, {})


def test_grid_points_order():
    # each setting's distinct values ascending, the first setting slowest
    assert grid_points({"eps": [0.3, 0.1, 0.3], "min_samples": [3, 1]}) == [
        {"eps": 0.1, "min_samples": 1}, {"eps": 0.1, "min_samples": 3},
        {"eps": 0.3, "min_samples": 1}, {"eps": 0.3, "min_samples": 3},
    ]  # fmt: skip
    assert grid_points({"min_samples": [3, 1], "eps": [0.3, 0.1]})[:2] == [{"min_samples": 1, "eps": 0.1},
                                                                          {"min_samples": 1, "eps": 0.3}]
    # non-numbers (and booleans) keep the order given, deduplicated
    assert grid_points({"method": ["matching", "argmax", "matching"]}) == [{"method": "matching"},
                                                                           {"method": "argmax"}]
    assert grid_points({"walk": [True, False]}) == [{"walk": True}, {"walk": False}]
    # a list of mappings: their points one after the other (thresholds, then argmax)
    assert grid_points([{"threshold": [0.5, 0.1]}, {"method": ["argmax"]}]) == [
        {"threshold": 0.1}, {"threshold": 0.5}, {"method": "argmax"}
    ]  # fmt: skip
    assert grid_points(({"eps": (0.2,)},)) == [{"eps": 0.2}]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ([], "a scan grid needs at least one setting"),
        ({}, "a scan grid is"),
        ([{"eps": [0.1]}, {}], "a scan grid is"),
        ({"eps": 0.1}, "scan setting 'eps': give a non-empty list of values"),
        ({"eps": []}, "scan setting 'eps': give a non-empty list of values"),
        ({"method": "argmax"}, "scan setting 'method': give a non-empty list of values"),
    ],
)
def test_bad_grids_are_named(grid, message):
    with pytest.raises(ValueError, match=message):
        grid_points(grid)


def test_edge_components_build_what_connected_components_and_cc_and_walk_build():
    event = graph_event()
    for cut in (0.01, 0.5):
        for min_hits in (2, 3):
            built = EdgeComponents(cut=cut, min_hits=min_hits)(event, GRAPH_OUTPUTS)
            direct = connected_components(EDGE_INDEX, N, scores=SCORES, threshold=cut, hit_id=HIT_ID,
                                          min_hits=min_hits)
            assert same(built, direct), (cut, min_hits)
    # at 0.5 the fake edge 1->6 (0.3) is cut; at 0.01 it merges the two tracks
    assert frozenset(range(1000, 1008)) in track_sets(EdgeComponents(cut=0.01)(event, GRAPH_OUTPUTS))
    assert frozenset(range(1000, 1004)) in track_sets(EdgeComponents(cut=0.5)(event, GRAPH_OUTPUTS))
    walk = EdgeComponents(cut=0.01, walk=True, walk_min=0.1, walk_max=0.6, min_hits=3)
    built = walk(event, GRAPH_OUTPUTS)
    direct = cc_and_walk(EDGE_INDEX, SCORES, N, direction=RADIUS, cc_cut=0.01, walk_min=0.1, walk_max=0.6,
                         min_hits=3, hit_id=HIT_ID)
    assert same(built, direct)
    assert track_sets(built) == {frozenset(h + 1000 for h in track) for track in EXPECTED}
    assert same(walk.with_settings(walk_max=0.95)(event, GRAPH_OUTPUTS),
                cc_and_walk(EDGE_INDEX, SCORES, N, direction=RADIUS, cc_cut=0.01, walk_min=0.1, walk_max=0.95,
                            min_hits=3, hit_id=HIT_ID))


@pytest.mark.parametrize("method", ["threshold", "argmax", "topk", "matching"])
def test_soft_assignment_builds_what_assign_builds(method):
    event, outputs = bipartite_event()
    settings = {"method": method, "threshold": 0.7, "min_weight": 0.5, "k": 2, "min_hits": 2}
    built = SoftAssignment(**settings)(event, outputs)
    group = module_key(event.volume_id, event.layer_id, event.module_id) if method == "matching" else None
    direct = assign(outputs["bipartite_hit"], outputs["bipartite_super"], outputs["bipartite_score"], 8,
                    options=AssignmentOptions(**settings), group_j=group, hit_id=event.hit_id)
    assert same(built, direct)
    expected = {  # track id = super-node; hit ids 100..107
        "threshold": {0: {100, 101, 102, 103}, 1: {104, 105, 106, 107}, 2: {105}},  # 2 has 1 hit: dropped
        "argmax": {0: {100, 101, 102, 103}, 1: {104, 105, 106, 107}},
        "topk": {0: {100, 101, 102, 103}, 1: {103, 104, 105, 106, 107}, 2: {105}},
        "matching": {0: {100, 101, 102}, 1: {103, 104, 105, 106, 107}},
    }[method]
    assert track_sets(built) == {frozenset(hits) for hits in expected.values() if len(hits) >= 2}


def test_clustering_builders_build_what_their_functions_build():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.05, (6, 3)) for c in (0.0, 1.0, 2.0)]).astype(np.float32)
    beta = rng.uniform(0.1, 0.95, len(x)).astype(np.float32)
    event = Data(hit_id=torch.arange(len(x)) + 7, num_nodes=len(x))
    outputs = {"coords": torch.from_numpy(x), "beta": torch.from_numpy(beta)}
    assert same(DBSCANBuilder(eps=0.2, min_samples=2, min_hits=3)(event, outputs),
                dbscan(x, 0.2, 2, hit_id=event.hit_id, min_hits=3))
    assert same(CondensationPoints(t_beta=0.5, t_d=0.3, min_hits=3)(event, outputs),
                condensation_clustering(x, beta, t_beta=0.5, t_d=0.3, hit_id=event.hit_id, min_hits=3))
    assert len(track_sets(DBSCANBuilder(eps=0.2, min_samples=2)(event, outputs))) == 3
