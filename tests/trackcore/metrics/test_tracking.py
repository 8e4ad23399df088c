"""Tracking metrics on hand-built events whose answers are worked out here."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from tests.conftest import make_event
from tests.trackcore.metrics.helpers import tracks, truth_from_tracks
from trackcore.candidates import TrackCandidates
from trackcore.data.weights import trackml_weights
from trackcore.metrics import EventTruth, ParticlesOfInterest, TrackingEvaluation, evaluate_tracks, trackml_score

A, B, C = 11, 22, 33
HITS_A, HITS_B, HITS_C = [1, 2, 3, 4, 5, 6], [7, 8, 9, 10], [11, 12, 13, 14]


def weighted_event(**kwargs):
    """make_event with the official TrackML weights filled in (the fixture leaves them 0)."""
    event = make_event(**kwargs)
    pid = event.hit_particle_id()
    pt = event.particle_pt().reindex(pid).fillna(0.0).to_numpy()
    r = np.hypot(event.hits["x"], event.hits["y"]).to_numpy()
    event.truth["weight"] = trackml_weights(pid, pt, r)
    return event


def summary(cands: TrackCandidates, truth: EventTruth, **poi) -> dict[str, float]:
    return evaluate_tracks(cands, truth, ParticlesOfInterest(**poi) if poi else None).summary()


def test_perfect_tracks_score_one_and_efficiency_one():
    event = weighted_event(n_particles=5, hits_per_particle=6, n_noise=3)
    truth = EventTruth.from_event(event)
    pid = event.hit_particle_id()
    labels = np.unique(pid, return_inverse=True)[1] - 1  # noise (pid 0) -> -1
    cands = TrackCandidates.from_labels(labels, event.hits["hit_id"].to_numpy())
    s = summary(cands, truth, min_pt=0.0)
    assert s["n_particles"] == 5
    for scheme in ("dm", "lhc", "perfect"):
        assert s[f"{scheme}_efficiency"] == 1.0
        assert s[f"{scheme}_fake_rate"] == 0.0
        assert s[f"{scheme}_duplicate_rate"] == 0.0
    assert s["trackml_score"] == pytest.approx(1.0, abs=1e-12)
    assert trackml_score(cands, truth) == pytest.approx(1.0, abs=1e-12)


def test_split_track():
    truth = truth_from_tracks({A: HITS_A})
    # 3 + 3: completeness 0.5 is not > 0.5 -> no DM match; both halves are pure (LHC).
    s = summary(tracks([1, 2, 3], [4, 5, 6]), truth)
    assert s["dm_efficiency"] == 0.0 and s["dm_fake_rate"] == 1.0
    assert math.isnan(s["dm_duplicate_rate"])
    assert s["lhc_efficiency"] == 1.0 and s["lhc_duplicate_rate"] == 1.0 and s["lhc_fake_rate"] == 0.0
    assert s["perfect_efficiency"] == 0.0 and s["perfect_fake_rate"] == 1.0
    # 4 + 2: the 4-hit part DM-matches (4/6); the 2-hit part is below 3 hits and not counted.
    s = summary(tracks([1, 2, 3, 4], [5, 6]), truth)
    assert s["dm_efficiency"] == 1.0 and s["n_candidates"] == 1 and s["dm_fake_rate"] == 0.0
    assert s["dm_duplicate_rate"] == 0.0


def test_merged_tracks():
    truth = truth_from_tracks({B: HITS_B, C: HITS_C})
    # 4 + 4 merged: purity 0.5 for each, no DM or LHC match, one fake.
    s = summary(tracks(HITS_B + HITS_C), truth)
    assert s["dm_efficiency"] == 0.0 and s["dm_fake_rate"] == 1.0 and s["lhc_efficiency"] == 0.0
    # 4 of B + 1 of C: purity 4/5 > 0.75 -> B matched in all three schemes except perfect (purity 0.8).
    s = summary(tracks(HITS_B + [11], [12, 13, 14]), truth)
    assert s["dm_efficiency"] == 1.0  # B by the first, C by the second (3/4 hits, pure)
    assert s["lhc_efficiency"] == 1.0
    assert s["perfect_efficiency"] == 0.0
    assert s["dm_fake_rate"] == 0.0


def test_shared_hits():
    truth = truth_from_tracks({B: HITS_B, C: HITS_C})
    # Hit 11 (of C) is in both tracks: B's track has 4/5 purity, C's track is perfect.
    cands = tracks(HITS_B + [11], HITS_C)
    ev = evaluate_tracks(cands, truth)
    s = ev.summary()
    assert s["dm_efficiency"] == 1.0 and s["dm_duplicate_rate"] == 0.0 and s["dm_fake_rate"] == 0.0
    assert s["perfect_efficiency"] == 0.5
    assert s["shared_hit_fraction"] == pytest.approx(1 / 8)
    assert ev.events["n_memberships"].item() == 9
    # Two full copies of B: a duplicate in every scheme.
    s = summary(tracks(HITS_B, HITS_B, HITS_C), truth)
    assert s["dm_duplicate_rate"] == pytest.approx(0.5)  # 3 matched candidates / 2 particles - 1
    assert s["shared_hit_fraction"] == pytest.approx(4 / 8)


def test_noise_only_event():
    truth = truth_from_tracks({}, noise=[1, 2, 3, 4, 5, 6], weights={})
    s = summary(tracks([1, 2, 3], [4, 5, 6]), truth)
    assert math.isnan(s["dm_efficiency"]) and s["n_particles"] == 0
    assert s["dm_fake_rate"] == 1.0
    assert math.isnan(s["trackml_score"])  # all weights 0


def test_empty_candidates_and_empty_event():
    truth = truth_from_tracks({A: HITS_A})
    s = summary(TrackCandidates.empty(), truth)
    assert s["dm_efficiency"] == 0.0 and math.isnan(s["dm_fake_rate"]) and s["assigned_hit_fraction"] == 0.0
    empty = truth_from_tracks({})
    s = summary(TrackCandidates.empty(), empty)
    assert s["n_particles"] == 0 and math.isnan(s["dm_efficiency"]) and math.isnan(s["shared_hit_fraction"])


def test_unknown_hit_ids_raise():
    truth = truth_from_tracks({A: HITS_A})
    with pytest.raises(ValueError, match="2 hit ids that are not in the evaluated event"):
        evaluate_tracks(tracks([1, 2, 99, 98]), truth)


def test_partial_truth_bounds_the_fake_rate():
    # Hits 50..53 are unknown: a candidate made of them is neither fake nor matched.
    truth = truth_from_tracks({A: HITS_A}, unlabelled=[50, 51, 52, 53])
    s = summary(tracks(HITS_A, [50, 51, 52, 53]), truth)
    assert s["dm_efficiency"] == 1.0
    assert s["dm_fake_rate"] == 0.0 and s["dm_fake_rate_upper"] == 0.5


def test_particles_of_interest():
    truth = truth_from_tracks({A: HITS_A, B: HITS_B, C: [11, 12]}, pt={A: 1.0, B: 1.5, C: 5.0})
    ev = evaluate_tracks(tracks(HITS_B), truth)
    # pT > 1 is strict (A out) and C has 2 < 3 hits: B alone is of interest.
    assert ev.summary()["n_particles"] == 1 and ev.summary()["dm_efficiency"] == 1.0
    s = summary(tracks(HITS_B), truth, min_pt=0.5)
    assert s["n_particles"] == 2 and s["dm_efficiency"] == 0.5
    nan_pt = truth_from_tracks({A: HITS_A}, pt={A: float("nan")})
    assert summary(tracks(HITS_A), nan_pt)["n_particles"] == 0


def test_trackml_score_hand_computed():
    weights = {h: 0.1 for h in HITS_B} | {h: 0.15 for h in HITS_C}
    truth = truth_from_tracks({B: HITS_B, C: HITS_C}, noise=[99], weights=weights)
    # B perfect (0.4); C: 3 of 4 hits + a noise hit: purity 0.75, completeness 0.75 -> good, 0.45.
    assert trackml_score(tracks(HITS_B, [11, 12, 13, 99]), truth) == pytest.approx(0.85)
    # C split 2 + 2: neither half holds > 50% -> 0 for C.
    assert trackml_score(tracks(HITS_B, [11, 12], [13, 14]), truth) == pytest.approx(0.4)
    # Shared hits cannot count C twice.
    assert trackml_score(tracks(HITS_B, HITS_C, HITS_C[:3]), truth) == pytest.approx(1.0)
    assert trackml_score(tracks(HITS_B), truth_from_tracks({B: HITS_B})) is None


def test_trackml_score_matches_official_weights_on_a_simulated_style_event():
    event = weighted_event(n_particles=4, hits_per_particle=6, n_noise=2)
    truth = EventTruth.from_event(event)
    hit = event.hits["hit_id"].to_numpy()
    pid = event.hit_particle_id()
    # Drop the last hit of every particle from its track: those weights are lost.
    labels = np.unique(pid, return_inverse=True)[1] - 1
    last = np.r_[pid[1:] != pid[:-1], True]
    lost = truth.weight_j[last & (pid != 0)].sum()
    labels[last] = -1
    s = trackml_score(TrackCandidates.from_labels(labels, hit), truth)
    assert 0 < lost < 1
    assert s == pytest.approx(1.0 - lost / truth.weight_j.sum())


def test_permuting_track_ids_and_hit_order_changes_nothing():
    rng = np.random.default_rng(3)
    n, p = 400, 40
    pid = rng.integers(1, p + 1, n)
    pid[rng.random(n) < 0.1] = 0
    hit = rng.permutation(10_000)[:n].astype(np.int64)
    truth = EventTruth(
        hit_id_j=hit, particle_id_j=pid, particle_id_p=np.arange(1, p + 1),
        pt_p=rng.uniform(0.5, 3, p), eta_p=rng.uniform(-2, 2, p), weight_j=rng.random(n),
        hit_eta_j=rng.uniform(-2, 2, n),
    )
    labels = np.where(rng.random(n) < 0.15, rng.integers(0, p, n), pid - 1)
    cands = TrackCandidates.from_labels(labels, hit)
    extra = TrackCandidates(hit[:30], np.full(30, 500))  # a shared-hit track too
    cands = TrackCandidates(np.r_[cands.hit_id, extra.hit_id], np.r_[cands.track_id, extra.track_id])
    ref = summary(cands, truth, min_pt=1.0)

    new_ids = rng.permutation(1000)
    order = rng.permutation(len(cands))
    shuffled = TrackCandidates(cands.hit_id[order], new_ids[cands.track_id[order]])
    perm = rng.permutation(n)
    truth_perm = EventTruth(
        hit_id_j=hit[perm], particle_id_j=pid[perm], particle_id_p=truth.particle_id_p,
        pt_p=truth.pt_p, eta_p=truth.eta_p, weight_j=truth.weight_j[perm], hit_eta_j=truth.hit_eta_j[perm],
    )
    got = summary(shuffled, truth_perm, min_pt=1.0)
    assert got.keys() == ref.keys()
    for key in ref:
        assert got[key] == pytest.approx(ref[key], nan_ok=True), key


def test_pooling_sums_counts():
    t1 = truth_from_tracks({A: HITS_A}, event_id=1)
    t2 = truth_from_tracks({B: HITS_B, C: HITS_C}, event_id=2)
    pooled = TrackingEvaluation.concat([evaluate_tracks(tracks(HITS_A), t1), evaluate_tracks(tracks(HITS_B), t2)])
    s = pooled.summary()
    assert s["n_events"] == 2 and s["dm_efficiency"] == pytest.approx(2 / 3)  # not mean(1, 0.5)
    with pytest.raises(ValueError, match="different particles of interest"):
        TrackingEvaluation.concat([
            evaluate_tracks(tracks(HITS_A), t1), evaluate_tracks(tracks(HITS_A), t1, ParticlesOfInterest(min_pt=0.5)),
        ])


def test_binned_efficiency_and_fake_rate():
    truth = truth_from_tracks({A: HITS_A, B: HITS_B, C: HITS_C}, pt={A: 0.8, B: 1.2, C: 4.0})
    ev = evaluate_tracks(tracks(HITS_A, HITS_C, [7, 8, 1]), truth)
    b = ev.binned_efficiency("pt", edges=np.array([0.5, 1.0, 2.0, 10.0]))
    # Efficiency vs pT ignores the pT cut: A (0.8) found, B (1.2) missed, C (4.0) found.
    assert b.total.tolist() == [1, 1, 1] and b.passed.tolist() == [1, 0, 1]
    assert ev.binned_efficiency("eta", edges=np.array([0.0, 1.0])).total.tolist() == [2]  # B and C
    with pytest.raises(ValueError, match="variable must be"):
        ev.binned_efficiency("phi")


def test_event_truth_validation():
    with pytest.raises(ValueError, match="missing from the particle table"):
        EventTruth(hit_id_j=[1, 2], particle_id_j=[5, 6], particle_id_p=[5], pt_p=[1.0], eta_p=[0.0])
    with pytest.raises(ValueError, match="duplicate hit ids"):
        EventTruth(hit_id_j=[1, 1], particle_id_j=[5, 5], particle_id_p=[5], pt_p=[1.0], eta_p=[0.0])
    with pytest.raises(ValueError, match="'pt_p' of length 1"):
        EventTruth(hit_id_j=[1], particle_id_j=[5], particle_id_p=[5], pt_p=[1.0, 2.0], eta_p=[0.0])


def test_all_metrics_on_100k_hits_and_10k_tracks_under_a_second():
    rng = np.random.default_rng(0)
    n, p = 100_000, 10_000
    pid = rng.integers(1, p + 1, n)
    pid[rng.random(n) < 0.15] = 0
    w = rng.random(n)
    truth = EventTruth(
        hit_id_j=np.arange(n) * 3 + 1, particle_id_j=pid, particle_id_p=np.arange(1, p + 1),
        pt_p=rng.exponential(1.5, p), eta_p=rng.uniform(-4, 4, p), weight_j=w / w.sum(),
        hit_eta_j=rng.uniform(-4, 4, n),
    )
    labels = np.where(rng.random(n) < 0.05, rng.integers(0, p, n), pid - 1)
    cands = TrackCandidates.from_labels(labels, truth.hit_id_j)
    start = time.perf_counter()
    ev = evaluate_tracks(cands, truth)
    s = ev.summary()
    ev.binned_efficiency("pt"), ev.binned_efficiency("eta"), ev.binned_fake_rate()
    elapsed = time.perf_counter() - start
    assert cands.n_tracks == p and s["dm_efficiency"] > 0.9
    assert elapsed < 1.0, f"metrics took {elapsed:.2f} s"


def test_truth_from_processed_event_and_real_partial_truth():
    from tests.conftest import shared_data
    from trackcore.data import get_benchmark, process_event, read_event

    prefix = shared_data("trackml_real_partial", "event000001001")
    data = process_event(read_event(prefix), get_benchmark("pt1_pixel"))
    truth = EventTruth.from_data(data)
    assert truth.n_hits == data.num_nodes and truth.truth_kind == "partial" and truth.weight_j is None
    labels = np.unique(truth.particle_id_j, return_inverse=True)[1]
    ev = evaluate_tracks(TrackCandidates.from_labels(labels, truth.hit_id_j), truth)
    s = ev.summary()
    assert s["n_particles"] > 500 and s["dm_efficiency"] == 1.0 and s["dm_fake_rate"] == 0.0
    assert math.isnan(s["trackml_score"])  # partial truth has no weights
