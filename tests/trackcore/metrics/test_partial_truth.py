"""Simulated events labelled as the real events' partial truth (trackcore.metrics.partial_truth)."""

from __future__ import annotations

import numpy as np
import pytest

from trackcore.candidates import TrackCandidates
from trackcore.data.processing import get_benchmark, process_event
from trackcore.data.simulation import simulate_event
from trackcore.metrics import EventTruth, ParticlesOfInterest, evaluate_tracks
from trackcore.metrics.partial_truth import PARTIAL_TRUTH_VOLUMES, as_partial_truth


@pytest.fixture(scope="module")
def event():
    return process_event(simulate_event("tiny", seed=1, event_id=1000), get_benchmark("full_pixel"))


def test_labels_follow_the_real_events_rules(event):
    partial = as_partial_truth(event)
    lab = partial.labelled.numpy()
    pid, vol, layer, pt = (event.particle_id.numpy(), event.volume_id.numpy(), event.layer_id.numpy(),
                           event.pt.numpy())
    assert partial.num_nodes == event.num_nodes  # the input is the same hits
    assert 0 < lab.sum() < (pid != 0).sum()
    assert (partial.particle_id.numpy()[~lab] == 0).all() and (partial.particle_id.numpy()[lab] == pid[lab]).all()
    cut = np.array([PARTIAL_TRUTH_VOLUMES[int(v)] for v in vol[lab]])
    assert (pt[lab] > cut).all()  # barrel pT > 0.5, end-caps pT > 1
    keys = np.stack([pid[lab], vol[lab], layer[lab]], axis=1)
    assert len(np.unique(keys, axis=0)) == len(keys)  # at most one hit per (particle, layer)
    # every (particle, layer) the rules admit keeps exactly one label
    admitted = (pid != 0) & (pt > np.array([PARTIAL_TRUTH_VOLUMES.get(int(v), np.inf) for v in vol]))
    assert len(np.unique(np.stack([pid[admitted], vol[admitted], layer[admitted]], axis=1), axis=0)) == lab.sum()
    table = dict(zip(partial.particle_table_id.tolist(), partial.particle_table_nhits.tolist(), strict=True))
    ids, counts = np.unique(pid[lab], return_counts=True)
    assert all(table[int(i)] == c for i, c in zip(ids, counts, strict=True))
    assert partial.truth_kind == "partial" and event.truth_kind == "full"  # the original is untouched


def test_same_seed_same_labels_and_partial_events_are_refused(event):
    a, b = as_partial_truth(event, seed=3), as_partial_truth(event, seed=3)
    assert (a.labelled == b.labelled).all()
    with pytest.raises(ValueError, match="not full"):
        as_partial_truth(a)


def test_perfect_tracks_lose_purity_under_the_partial_labels(event):
    """The truth's own tracks: every particle found under full truth; under the partial labels the
    unlabelled second hits on a layer count in the candidate's size, so some purities fall."""
    pid = event.particle_id.numpy()
    keep = pid != 0
    tracks = TrackCandidates(event.hit_id.numpy()[keep], pid[keep])
    poi = ParticlesOfInterest()
    full = evaluate_tracks(tracks, EventTruth.from_data(event), poi).summary()
    partial = evaluate_tracks(tracks, EventTruth.from_data(as_partial_truth(event)), poi).summary()
    assert full["dm_efficiency"] == 1.0 and full["lhc_efficiency"] == 1.0
    assert partial["lhc_efficiency"] < 1.0
    assert partial["dm_fake_rate"] == 0.0  # a candidate of unknown hits is unknown, never fake


def test_a_stage_scored_with_the_real_events_labels(tmp_path, event):
    from trackcore.compare.geometric import geometric_finder, write_geometric_stage
    from trackcore.metrics.partial_truth import evaluate_stage_as_partial_truth, fully_labelled
    from trackcore.metrics.stage_report import evaluate_stage

    write_geometric_stage([event], tmp_path / "stage", geometric_finder())
    assert fully_labelled(tmp_path / "stage")
    with pytest.raises(FileNotFoundError, match="missing: no such stage folder"):
        fully_labelled(tmp_path / "missing")
    full = evaluate_stage(tmp_path / "stage").tracking.summary()
    partial = evaluate_stage_as_partial_truth(tmp_path / "stage").tracking.summary()
    assert partial["lhc_efficiency"] <= full["lhc_efficiency"]
    assert partial["n_particles"] <= full["n_particles"]
