"""Official TrackML hit weights, pinned on hand-worked examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trackcore.data.errors import DataError
from trackcore.data.weights import ORDER_MATRIX, hit_rank, official_trackml_weights, pt_weight, trackml_weights


def test_nine_hit_row_is_the_proposal() -> None:
    proposal = np.array([10, 8, 6, 5, 3, 3, 3, 5, 6], dtype=float)
    np.testing.assert_allclose(ORDER_MATRIX[9, :9], proposal / proposal.sum())
    assert ORDER_MATRIX[3].sum() == 0  # fewer than 4 hits weigh nothing
    np.testing.assert_allclose(ORDER_MATRIX[4:].sum(axis=1), 1.0)


def test_pt_weight_ramp() -> None:
    np.testing.assert_allclose(pt_weight([0.01, 0.3, 0.5, 1.75, 3.0, 10.0]), [0.0, 0.2, 0.2, 0.6, 1.0, 1.0])


def test_hit_rank_by_distance_within_particle() -> None:
    pid = np.array([5, 7, 5, 5, 7])
    dist = np.array([3.0, 1.0, 1.0, 2.0, 0.5])
    np.testing.assert_array_equal(hit_rank(pid, dist), [2, 1, 0, 1, 0])


def test_event_weights() -> None:
    # Particle 1: 9 hits at pT 3 GeV (pT weight 1); particle 2: 3 hits (too short); noise.
    pid = np.r_[np.ones(9, int), 2 * np.ones(3, int), 0]
    pt = np.r_[np.full(9, 3.0), np.full(3, 3.0), 0.0]
    dist = np.r_[np.arange(9.0)[::-1], np.arange(3.0), 0.0]  # particle 1 given in reverse order
    w = trackml_weights(pid, pt, dist)
    proposal = np.array([10, 8, 6, 5, 3, 3, 3, 5, 6], dtype=float)
    np.testing.assert_allclose(w[:9], (proposal / proposal.sum())[::-1])
    assert w[9:].sum() == 0 and w.sum() == pytest.approx(1.0)


def _tables(rows: list[tuple[int, float]], particles: list[tuple[int, float, float, int]]) -> tuple:
    """truth from (particle_id, tz) rows; particles from (particle_id, vz, pt, nhits)."""
    truth = pd.DataFrame({"hit_id": np.arange(1, len(rows) + 1), "particle_id": [r[0] for r in rows],
                          "tz": [r[1] for r in rows]})
    parts = pd.DataFrame({"particle_id": [p[0] for p in particles], "vz": [p[1] for p in particles],
                          "px": [p[2] for p in particles], "py": 0.0, "nhits": [p[3] for p in particles]})
    return truth, parts


def test_official_weights_on_a_hand_worked_event() -> None:
    truth, parts = _tables(
        [
            # P: a looper, hits in crossing order; |tz - vz| = 5, 20, 30, 40, 35 is not monotonic.
            (1, 5.0), (1, -20.0), (1, 30.0), (1, 40.0), (1, 35.0),
            # Q: vz = 10, |tz - vz| = 2, 2, 10, 20: two hits tied for first place.
            (2, 12.0), (2, 8.0), (2, 20.0), (2, 30.0),
            # R: 4 truth rows of a particle whose particles-table nhits is 6.
            (3, 100.0), (3, 200.0), (3, 300.0), (3, 400.0),
            (0, 0.0),      # noise
            (99, 50.0),    # a particle absent from the particles table
        ],
        [(1, 0.0, 3.0, 5), (2, 10.0, 0.3, 4), (3, 0.0, 1.75, 6)],
    )
    # Order rows worked out by hand from the proposal [10, 8, 6, 5, 3, 3, 3, 5, 6]:
    # 5 hits: 10, 6, 3, 3, 6 (sum 28); 4 hits: 10, 16/3, 3, 6 (sum 73/3);
    # 6 hits: 10, 6.8, 4.6, 3, 3.8, 6 (sum 34.2). pT weights: 3 GeV 1, 0.3 GeV 0.2, 1.75 GeV 0.6.
    p = np.array([10, 6, 3, 6, 3]) / 28          # ranks 0, 1, 2, 4, 3
    q = 0.2 * np.array([10, 10, 3, 6]) / (73 / 3)  # both tied hits: rank (1 + 2) / 2 - 1 = 0.5 -> 0
    r = 0.6 * np.array([10, 6.8, 4.6, 3]) / 34.2
    raw = np.r_[p, q, r, 0.0, 0.0]
    w = official_trackml_weights(truth, parts)
    np.testing.assert_allclose(w, raw / raw.sum(), rtol=1e-12)
    # Pinned numbers: P's fourth hit (farthest in z) carries the last-hit weight 6/28.
    assert w[3] / w.sum() == pytest.approx(6 / 28 / raw.sum())


def test_three_way_tie_shares_the_middle_rank() -> None:
    # |dz| = 1, 1, 1, 7: pandas ranks 2, 2, 2, 4 -> ihit 1, 1, 1, 3.
    truth, parts = _tables([(5, 1.0), (5, -1.0), (5, 1.0), (5, 7.0)], [(5, 0.0, 3.0, 4)])
    w = official_trackml_weights(truth, parts)
    np.testing.assert_allclose(w, np.array([16 / 3, 16 / 3, 16 / 3, 6]) / (16 + 6), rtol=1e-12)
    np.testing.assert_array_equal(hit_rank(np.full(4, 5), np.array([1.0, 1.0, 1.0, 7.0])), [1, 1, 1, 3])


def test_more_hits_than_nhits_is_reported() -> None:
    truth, parts = _tables([(5, float(z)) for z in range(5)], [(5, 0.0, 3.0, 4)])
    with pytest.raises(DataError, match=r"^ev/particles.csv: inconsistent with the truth table: .*particle_id 5 "
                                        r"has nhits 4 but at least 5 hits"):
        official_trackml_weights(truth, parts, source="ev/particles.csv")


def _reference_phase1(truth: pd.DataFrame, particles: pd.DataFrame) -> np.ndarray:
    """The challenge library's weight_hits_phase1, step by step in pandas (independent of weights.py)."""
    proposal = [10.0, 8.0, 6.0, 5.0, 3.0, 3.0, 3.0, 5.0, 6.0]

    def order_weight(ihit: int, nhits: int) -> float:
        if nhits < 4:
            return 0.0
        nhits = min(nhits, 20)
        if ihit >= 20:
            return 0.0
        support = np.arange(9) * (nhits - 1) / 8
        row = np.interp(np.arange(nhits), support, proposal)
        return float(row[ihit] / row.sum())

    sel = pd.DataFrame({"particle_id": particles["particle_id"], "particle_vz": particles["vz"],
                        "particle_nhits": particles["nhits"],
                        "weight_pt": np.interp(np.hypot(particles["px"], particles["py"]), [0.05, 0.5, 3],
                                               [0.2, 0.2, 1.0], left=0.0, right=1.0)})
    c = truth.merge(sel, how="left", on="particle_id", validate="many_to_one")
    c["weight_pt"] = c["weight_pt"].fillna(0.0)
    c["particle_nhits"] = c["particle_nhits"].fillna(0).astype("i4")
    c["abs_dvz"] = (c["tz"] - c["particle_vz"]).abs()
    c["ihit"] = c.groupby("particle_id")["abs_dvz"].rank().transform(lambda x: x - 1).fillna(0.0).astype("i4")
    w = c["weight_pt"] * [order_weight(i, n) for i, n in zip(c["ihit"], c["particle_nhits"], strict=True)]
    return (w / w.sum()).to_numpy()


def test_official_weights_match_the_challenge_recipe_on_random_events() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):
        n_particles = int(rng.integers(1, 30))
        pids = rng.choice(np.arange(1, 10**6), n_particles, replace=False) * 10**11  # ids beyond 2**53
        per = rng.integers(1, 25, n_particles)
        pid = np.repeat(pids, per)
        noise = rng.integers(0, 10)
        truth = pd.DataFrame({"hit_id": np.arange(len(pid) + noise), "particle_id": np.r_[pid, np.zeros(noise, int)],
                              "tz": rng.integers(-40, 40, len(pid) + noise).astype(float)})  # many ties
        truth = truth.sample(frac=1, random_state=int(rng.integers(1000))).reset_index(drop=True)
        parts = pd.DataFrame({"particle_id": pids, "vz": rng.integers(-5, 5, n_particles).astype(float),
                              "px": rng.uniform(0, 4, n_particles), "py": rng.uniform(-1, 1, n_particles),
                              "nhits": per + rng.integers(0, 3, n_particles)})
        np.testing.assert_allclose(official_trackml_weights(truth, parts), _reference_phase1(truth, parts),
                                   rtol=1e-12, atol=1e-15)
