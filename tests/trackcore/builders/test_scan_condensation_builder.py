"""The builder scan (scan_builder) over condensation points' (t_beta, t_d) on toy events with known best thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trackcore.builders.helpers import track_sets
from tests.trackcore.builders.test_scan_dbscan_builder import scan_event, toy_event
from trackcore.builders import (
    BuilderScan,
    CondensationPoints,
    NoFiniteObjectiveError,
    condensation_clustering,
    condensation_graph,
    grid_points,
    scan_builder,
)
from trackcore.metrics import TrackingEvaluation, evaluate_tracks


def toy_beta_event(seed: int):
    """:func:`toy_event` clusters (1 apart, diameter < 0.2) with one seed hit of beta 0.9 each,
    the other hits at 0.2, and its three far noise hits moved into one clump of beta 0.5:
    t_beta < 0.5 seeds a 3-hit fake there, t_beta >= 0.9 seeds nothing."""
    x, truth = toy_event(seed)
    x[-3:] = [[20.0, 0, 0], [20.05, 0, 0], [20.0, 0.05, 0]]
    beta = np.full(len(x), 0.2, np.float32)
    beta[:-3:5] = 0.9  # first hit of each 5-hit particle
    beta[-3:] = 0.5
    return x, beta, truth


RAW = [toy_beta_event(1), toy_beta_event(2)]
EVENTS = [scan_event(x, t, beta=b) for x, b, t in RAW]
BUILDER = CondensationPoints(t_beta=0.5, t_d=0.5, min_hits=2)


def test_scan_picks_the_thresholds_between_the_scales():
    scan = scan_builder(BUILDER, EVENTS, {"t_beta": [0.95, 0.1, 0.7], "t_d": [1.5, 0.01, 0.5]})
    assert isinstance(scan, BuilderScan) and scan.params == ("t_beta", "t_d")
    assert scan.best_params == {"t_beta": 0.7, "t_d": 0.5}
    assert scan.best["dm_efficiency"] == 1.0 and scan.best["dm_fake_rate"] == 0.0
    assert len(scan.best_evaluations) == len(EVENTS)  # the best setting's per-event evaluations
    assert TrackingEvaluation.concat(list(scan.best_evaluations)).summary()["n_candidates"] == scan.best["n_candidates"]
    t = scan.table.set_index(["t_beta", "t_d"])
    assert t.loc[(0.1, 0.5), "dm_efficiency"] == 1.0 and t.loc[(0.1, 0.5), "dm_fake_rate"] == pytest.approx(2 / 26)
    assert t.loc[(0.7, 0.01), "n_candidates"] == 0  # lone seeds are below min_hits
    assert t.loc[(0.7, 1.5), "dm_efficiency"] < 1.0  # seeds reach into the neighbouring clusters
    assert np.isnan(t.loc[(0.95, 0.5), "dm_fake_rate"])  # no seed at all


def test_scan_rows_equal_direct_clustering():
    scan = scan_builder(BUILDER, EVENTS, {"t_beta": [0.1, 0.7], "t_d": [0.05, 0.5, 1.5]})
    for row in scan.table.itertuples():
        evs = [evaluate_tracks(condensation_clustering(x, b, t_beta=row.t_beta, t_d=row.t_d, hit_id=t.hit_id_j,
                                                       min_hits=2), t) for x, b, t in RAW]
        direct = TrackingEvaluation.concat(evs).summary()
        for key in ("dm_efficiency", "dm_fake_rate", "lhc_efficiency", "n_candidates"):
            assert getattr(row, key) == pytest.approx(direct[key], nan_ok=True)


def test_the_best_setting_is_building_directly_with_the_builder_at_it():
    grid = {"t_beta": [0.1, 0.7], "t_d": [0.05, 0.5, 1.5]}
    scan = scan_builder(BUILDER, EVENTS, grid)
    best = BUILDER.with_settings(**scan.best_params)
    assert best == CondensationPoints(t_beta=0.7, t_d=0.5, min_hits=2)
    points = grid_points(grid)
    for item, ev in zip(EVENTS, scan.best_evaluations, strict=True):
        direct = best(item.event, item.outputs)
        assert direct.n_tracks == 12
        assert ev.summary() == pytest.approx(evaluate_tracks(direct, item.truth).summary(), nan_ok=True)
        # the search-once grid gives each setting's candidates, the same as building at that setting
        for point, grid_candidates in zip(points, BUILDER.build_grid(item.event, item.outputs, points), strict=True):
            assert track_sets(grid_candidates) == track_sets(BUILDER.with_settings(**point)(item.event, item.outputs))


def test_one_search_serves_every_smaller_radius_and_larger_threshold():
    rng = np.random.default_rng(0)
    x, beta = rng.normal(size=(300, 3)).astype(np.float32), rng.uniform(size=300).astype(np.float32)
    seeds = condensation_graph(x, beta, t_beta=0.2, t_d=0.8)
    for t_beta in (0.2, 0.5, 0.9):
        for t_d in (0.1, 0.4, 0.8):
            direct = condensation_clustering(x, beta, t_beta=t_beta, t_d=t_d)
            labels = seeds.labels(t_beta, t_d)
            got = {tuple(np.flatnonzero(labels == k)) for k in np.unique(labels[labels >= 0])}
            want = {tuple(np.sort(direct.hit_id[direct.track_id == k])) for k in np.unique(direct.track_id)}
            assert got == want
    with pytest.raises(ValueError, match="need a search at"):
        seeds.labels(0.1, 0.5)
    with pytest.raises(ValueError, match="need a search at"):
        seeds.labels(0.5, 1.0)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="non-empty list of values"):
        scan_builder(BUILDER, EVENTS, {"t_beta": [], "t_d": [0.5]})
    with pytest.raises(ValueError, match="at least one event"):
        scan_builder(BUILDER, [], {"t_beta": [0.5], "t_d": [0.5]})
    with pytest.raises(ValueError, match=r"t_beta must be in \[0, 1\)"):
        scan_builder(BUILDER, EVENTS, {"t_beta": [1.0], "t_d": [0.5]})
    with pytest.raises(ValueError, match="'t_d' to be a finite number > 0"):
        scan_builder(BUILDER, EVENTS, {"t_beta": [0.5], "t_d": [0.0]})
    x, beta, truth = RAW[0]
    short = scan_event(x[:5], truth, beta=beta[:5])
    with pytest.raises(ValueError, match="5 hits but its truth has 63"):
        scan_builder(BUILDER, [short], {"t_beta": [0.5], "t_d": [0.5]})
    without_beta = scan_event(x, truth)
    with pytest.raises(ValueError, match=r"CondensationPoints reads the model outputs \['beta'\]"):
        scan_builder(BUILDER, [without_beta], {"t_beta": [0.5], "t_d": [0.5]})
    with pytest.raises(ValueError, match=r"CondensationPoints has no settings \['eps'\]"):
        scan_builder(BUILDER, EVENTS, {"t_beta": [0.5], "eps": [0.5]})
    with pytest.raises(ValueError, match="names one setting twice"):
        scan_builder(BUILDER, EVENTS, [{"t_beta": [0.5]}, {"t_d": [0.5]}])  # both are the builder's (0.5, 0.5)


def test_without_a_candidate_need_best_false_returns_the_table():
    grid = {"t_beta": [0.95], "t_d": [0.5, 1.5]}  # no seed at all
    with pytest.raises(NoFiniteObjectiveError, match="finite objective"):
        scan_builder(BUILDER, EVENTS, grid)
    scan = scan_builder(BUILDER, EVENTS, grid, need_best=False)
    assert list(zip(scan.table["t_beta"], scan.table["t_d"], strict=True)) == [(0.95, 0.5), (0.95, 1.5)]
    assert (scan.table["n_candidates"] == 0).all() and scan.table["objective"].isna().all()
    assert scan.best_params == {} and np.isnan(scan.best_objective) and scan.best_evaluations == ()
