"""Selections remove exactly what they say and report it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_event, shared_data
from trackcore.data import DataError, pt1_pixel_benchmark, read_event, select_hits


def test_select_volumes_pt_noise_reports_counts() -> None:
    event = make_event(n_particles=3, hits_per_particle=4, n_noise=2)  # pT 0.5, 1.25, 2.0
    event.hits.loc[0, "volume_id"] = 13
    out, report = select_hits(event, volumes=[8], min_pt=1.0, remove_noise=True)
    assert report.n_hits_before == 14
    assert report.removed == {"volumes": 1, "noise": 2, "pt": 3}
    assert out.n_hits == report.n_hits_after == 8
    assert set(out.truth["hit_id"]) == set(out.hits["hit_id"])
    assert out.meta["selections"][-1]["removed"] == report.removed
    assert len(out.particles) == 3  # particle table is kept whole
    assert str(report) == "14 -> 8 hits (volumes: -1, noise: -2, pt: -3)"


def test_selection_needing_truth_fails_clearly() -> None:
    event = make_event()
    event.truth, event.truth_kind = None, "none"
    with pytest.raises(DataError, match=r"handmade: selection .* needs truth"):
        select_hits(event, min_pt=1.0)


def test_remove_noise_refuses_partial_truth() -> None:
    event = make_event()
    event.truth, event.truth_kind = event.truth[["hit_id", "particle_id"]].iloc[:4], "partial"
    with pytest.raises(DataError, match=r"needs labelled_only=True: an unlabelled hit is unknown, not noise"):
        select_hits(event, remove_noise=True)


@pytest.mark.realdata
def test_pt1_pixel_benchmark_on_real_event() -> None:
    event = read_event(shared_data("trackml_real_partial", "event000001001"))
    bench, report = pt1_pixel_benchmark(event)
    assert set(bench.hits["volume_id"]) <= {7, 8, 9}
    assert bench.labelled_mask().all()
    pid = bench.hit_particle_id()
    pt = event.particle_pt().reindex(pid[pid > 0]).to_numpy()
    assert (pt >= 1.0).all()
    assert report.n_hits_after == bench.n_hits == 4029
    assert sum(report.removed.values()) == event.n_hits - bench.n_hits
    # at most one hit per (particle, layer) in the partial truth
    keys = bench.hits.assign(pid=pid).groupby(["pid", "volume_id", "layer_id"]).size()
    assert keys.max() == 1
    # ids above 2**53 stay distinct (a float64 round trip merged two of them)
    assert np.unique(pid).size == 880
