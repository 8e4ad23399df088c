"""The condensation-point (t_beta, t_d) scan on toy events with known best thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trackcore.builders.test_dbscan_scan import toy_event
from trackcore.builders import BuilderScan, condensation_clustering, condensation_graph, scan_condensation
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


EVENTS = [toy_beta_event(1), toy_beta_event(2)]


def test_scan_picks_the_thresholds_between_the_scales():
    scan = scan_condensation(EVENTS, [0.95, 0.1, 0.7], [1.5, 0.01, 0.5], min_hits=2)
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
    scan = scan_condensation(EVENTS, [0.1, 0.7], [0.05, 0.5, 1.5], min_hits=2)
    for row in scan.table.itertuples():
        evs = [evaluate_tracks(condensation_clustering(x, b, t_beta=row.t_beta, t_d=row.t_d, hit_id=t.hit_id_j,
                                                       min_hits=2), t) for x, b, t in EVENTS]
        direct = TrackingEvaluation.concat(evs).summary()
        for key in ("dm_efficiency", "dm_fake_rate", "lhc_efficiency", "n_candidates"):
            assert getattr(row, key) == pytest.approx(direct[key], nan_ok=True)


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
    with pytest.raises(ValueError, match="at least one"):
        scan_condensation(EVENTS, [], [0.5])
    with pytest.raises(ValueError, match="at least one"):
        scan_condensation([], [0.5], [0.5])
    with pytest.raises(ValueError, match=r"t_beta in \[0, 1\)"):
        scan_condensation(EVENTS, [1.0], [0.5])
    with pytest.raises(ValueError, match="t_d"):
        scan_condensation(EVENTS, [0.5], [0.0])
    x, beta, truth = EVENTS[0]
    with pytest.raises(ValueError, match="rows but its truth"):
        scan_condensation([(x[:5], beta[:5], truth)], [0.5], [0.5])
