"""The DBSCAN (eps, min_samples) scan on toy events with a known best radius."""

from __future__ import annotations

import numpy as np
import pytest

from trackcore.builders import DBSCANScan, dbscan, scan_dbscan
from trackcore.metrics import EventTruth, TrackingEvaluation, evaluate_tracks


def toy_event(seed: int, n_particles: int = 12, hits: int = 5) -> tuple[np.ndarray, EventTruth]:
    """Tight clusters (diameter < 0.2) on a grid of spacing 1, plus 3 far-away noise hits.

    Any eps in (0.2, 1) finds every particle exactly; eps < 0.02 finds nothing; eps > 1 merges them.
    """
    rng = np.random.default_rng(seed)
    centres = np.stack(np.meshgrid(np.arange(4.0), np.arange(3.0), [0.0]), -1).reshape(-1, 3)[:n_particles]
    x = np.repeat(centres, hits, 0) + rng.uniform(-0.05, 0.05, (n_particles * hits, 3))
    x = np.concatenate([x, [[20.0, 0, 0], [0, 20.0, 0], [0, 0, 20.0]]]).astype(np.float32)
    pid_p = np.arange(1, n_particles + 1) + 100 * seed
    truth = EventTruth(
        hit_id_j=rng.permutation(len(x)) + 1,
        particle_id_j=np.concatenate([np.repeat(pid_p, hits), [0, 0, 0]]),
        particle_id_p=pid_p,
        pt_p=np.full(n_particles, 2.0),
        eta_p=np.zeros(n_particles),
    )
    return x, truth


EVENTS = [toy_event(1), toy_event(2)]


def test_scan_picks_the_radius_between_the_gaps():
    scan = scan_dbscan(EVENTS, [0.01, 1.5, 0.5], [2, 3])
    assert isinstance(scan, DBSCANScan)
    assert scan.best_eps == 0.5 and scan.best_min_samples == 2
    assert scan.best_objective == pytest.approx(1.0)
    assert scan.best["dm_efficiency"] == 1.0 and scan.best["dm_fake_rate"] == 0.0
    keys = ("n_candidates", "dm_efficiency", "dm_fake_rate", "lhc_efficiency", "assigned_hit_fraction")
    for ev, (x, t) in zip(scan.best_evaluations, EVENTS, strict=True):  # the best setting's per-event evaluations
        direct = evaluate_tracks(dbscan(x, 0.5, 2, hit_id=t.hit_id_j), t).summary()
        assert [ev.summary()[k] for k in keys] == [direct[k] for k in keys]
    table = scan.table
    assert list(zip(table["eps"], table["min_samples"], strict=True)) == [
        (0.01, 2), (0.01, 3), (0.5, 2), (0.5, 3), (1.5, 2), (1.5, 3)
    ]  # fmt: skip
    assert (table.loc[table["eps"] == 0.01, "dm_efficiency"] == 0).all()
    assert (table.loc[table["eps"] == 1.5, "dm_efficiency"] == 0).all()  # everything merged into one cluster


def test_scan_rows_equal_direct_dbscan_evaluation():
    scan = scan_dbscan(EVENTS, [0.05, 0.12], [2, 4], min_hits=2)
    for row in scan.table.itertuples():
        evs = [
            evaluate_tracks(dbscan(x, row.eps, row.min_samples, hit_id=t.hit_id_j, min_hits=2), t) for x, t in EVENTS
        ]
        direct = TrackingEvaluation.concat(evs).summary()
        for key in ("dm_efficiency", "dm_fake_rate", "lhc_efficiency", "n_candidates"):
            assert getattr(row, key) == pytest.approx(direct[key], nan_ok=True)


def test_custom_objective():
    scan = scan_dbscan(EVENTS, [0.5, 1.5], [2], objective=lambda s: -s["n_candidates"])
    assert scan.best_eps == 1.5  # fewest candidates: everything merged


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="at least one"):
        scan_dbscan(EVENTS, [], [2])
    with pytest.raises(ValueError, match="at least one"):
        scan_dbscan([], [0.5], [2])
    with pytest.raises(ValueError, match="eps"):
        scan_dbscan(EVENTS, [-1.0], [2])
    with pytest.raises(ValueError, match="rows but its truth"):
        scan_dbscan([(EVENTS[0][0][:5], EVENTS[0][1])], [0.5], [2])
    with pytest.raises(ValueError, match="finite objective"):
        scan_dbscan(EVENTS, [0.5], [2], objective=lambda s: float("nan"))


def test_postprocess_judges_each_setting_after_it():
    from trackcore.candidates import TrackCandidates

    def split_in_two(candidates: TrackCandidates) -> TrackCandidates:
        """Every track loses its first two rows."""
        frame = candidates.to_frame()
        frame = frame[frame.groupby("track_id").cumcount() >= 2]
        return TrackCandidates.from_frame(frame)

    raw = scan_dbscan(EVENTS, [0.5, 1.5], [2])
    post = scan_dbscan(EVENTS, [0.5, 1.5], [2], postprocess=[split_in_two] * len(EVENTS))
    assert raw.best_eps == post.best_eps == 0.5
    # each particle keeps 3 of its 5 hits: still double-majority matched, no longer perfectly
    assert raw.best["perfect_efficiency"] == 1.0 and post.best["perfect_efficiency"] == 0.0
    assert post.best["dm_efficiency"] == 1.0
    with pytest.raises(ValueError, match="one postprocess function per event"):
        scan_dbscan(EVENTS, [0.5], [2], postprocess=[split_in_two])
