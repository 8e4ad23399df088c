"""The builder scan (scan_builder) over DBSCAN's (eps, min_samples) on toy events with a known best radius."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from tests.trackcore.builders.helpers import track_sets
from trackcore.builders import (
    BuilderScan,
    DBSCANBuilder,
    NoFiniteObjectiveError,
    ScanEvent,
    dbscan,
    grid_points,
    scan_builder,
)
from trackcore.candidates import TrackCandidates
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


def scan_event(x: np.ndarray, truth: EventTruth, **outputs: np.ndarray) -> ScanEvent:
    """A :class:`ScanEvent` of the points ``x`` (the model's ``coords``) and any further outputs."""
    event = Data(hit_id=torch.from_numpy(truth.hit_id_j), num_nodes=len(x))
    tensors = {"coords": torch.from_numpy(x), **{key: torch.from_numpy(v) for key, v in outputs.items()}}
    return ScanEvent(event, tensors, truth)


RAW = [toy_event(1), toy_event(2)]
EVENTS = [scan_event(x, t) for x, t in RAW]
BUILDER = DBSCANBuilder(eps=0.3, min_samples=2, min_hits=1)  # min_hits 1: dbscan()'s default


def test_scan_picks_the_radius_between_the_gaps():
    scan = scan_builder(BUILDER, EVENTS, {"eps": [0.01, 1.5, 0.5], "min_samples": [2, 3]})
    assert isinstance(scan, BuilderScan) and scan.params == ("eps", "min_samples")
    assert scan.best_params == {"eps": 0.5, "min_samples": 2}
    assert scan.best_objective == pytest.approx(1.0)
    assert scan.best["dm_efficiency"] == 1.0 and scan.best["dm_fake_rate"] == 0.0
    keys = ("n_candidates", "dm_efficiency", "dm_fake_rate", "lhc_efficiency", "assigned_hit_fraction")
    for ev, (x, t) in zip(scan.best_evaluations, RAW, strict=True):  # the best setting's per-event evaluations
        direct = evaluate_tracks(dbscan(x, 0.5, 2, hit_id=t.hit_id_j), t).summary()
        assert [ev.summary()[k] for k in keys] == [direct[k] for k in keys]
    table = scan.table
    assert list(zip(table["eps"], table["min_samples"], strict=True)) == [
        (0.01, 2), (0.01, 3), (0.5, 2), (0.5, 3), (1.5, 2), (1.5, 3)
    ]  # fmt: skip
    assert (table.loc[table["eps"] == 0.01, "dm_efficiency"] == 0).all()
    assert (table.loc[table["eps"] == 1.5, "dm_efficiency"] == 0).all()  # everything merged into one cluster


def test_the_best_setting_is_building_directly_with_the_builder_at_it():
    grid = {"eps": [0.05, 0.5, 1.5], "min_samples": [2, 4]}
    scan = scan_builder(BUILDER, EVENTS, grid)
    best = BUILDER.with_settings(**scan.best_params)
    assert best == DBSCANBuilder(eps=0.5, min_samples=2, min_hits=1)
    for item, ev in zip(EVENTS, scan.best_evaluations, strict=True):
        direct = best(item.event, item.outputs)
        assert direct.n_tracks == 12
        assert ev.summary() == pytest.approx(evaluate_tracks(direct, item.truth).summary(), nan_ok=True)
        # the graph-once grid gives each setting's candidates, the same as building at that setting
        points = grid_points(grid)
        for point, grid_candidates in zip(points, BUILDER.build_grid(item.event, item.outputs, points), strict=True):
            built = BUILDER.with_settings(**point)(item.event, item.outputs)
            assert track_sets(grid_candidates) == track_sets(built), point


def test_scan_rows_equal_direct_dbscan_evaluation():
    scan = scan_builder(BUILDER.with_settings(min_hits=2), EVENTS, {"eps": [0.05, 0.12], "min_samples": [2, 4]})
    for row in scan.table.itertuples():
        evs = [evaluate_tracks(dbscan(x, row.eps, row.min_samples, hit_id=t.hit_id_j, min_hits=2), t) for x, t in RAW]
        direct = TrackingEvaluation.concat(evs).summary()
        for key in ("dm_efficiency", "dm_fake_rate", "lhc_efficiency", "n_candidates"):
            assert getattr(row, key) == pytest.approx(direct[key], nan_ok=True)


def test_custom_objective():
    scan = scan_builder(BUILDER, EVENTS, {"eps": [0.5, 1.5], "min_samples": [2]},
                        objective=lambda s: -s["n_candidates"])
    assert scan.best_params["eps"] == 1.5  # fewest candidates: everything merged


def test_settings_the_grid_does_not_name_keep_the_builders_values():
    scan = scan_builder(BUILDER.with_settings(min_samples=3), EVENTS, {"eps": [0.5]})
    assert scan.params == ("eps",) and scan.best_params == {"eps": 0.5}
    direct = DBSCANBuilder(eps=0.5, min_samples=3, min_hits=1)
    evs = [evaluate_tracks(direct(item.event, item.outputs), item.truth) for item in EVENTS]
    assert scan.best["n_candidates"] == TrackingEvaluation.concat(evs).summary()["n_candidates"]


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="non-empty list of values"):
        scan_builder(BUILDER, EVENTS, {"eps": [], "min_samples": [2]})
    with pytest.raises(ValueError, match="at least one event"):
        scan_builder(BUILDER, [], {"eps": [0.5], "min_samples": [2]})
    with pytest.raises(ValueError, match="'eps' to be a finite number > 0"):
        scan_builder(BUILDER, EVENTS, {"eps": [-1.0], "min_samples": [2]})
    x, truth = RAW[0]
    short = ScanEvent(Data(hit_id=torch.from_numpy(truth.hit_id_j[:5]), num_nodes=5),
                      {"coords": torch.from_numpy(x[:5])}, truth)
    with pytest.raises(ValueError, match="5 hits but its truth has 63"):
        scan_builder(BUILDER, [short], {"eps": [0.5], "min_samples": [2]})
    with pytest.raises(ValueError, match="finite objective"):
        scan_builder(BUILDER, EVENTS, {"eps": [0.5], "min_samples": [2]}, objective=lambda s: float("nan"))
    missing = ScanEvent(EVENTS[0].event, {"beta": torch.ones(len(x))}, truth)
    with pytest.raises(ValueError, match=r"DBSCANBuilder reads the model outputs \['coords'\]"):
        scan_builder(BUILDER, [missing], {"eps": [0.5]})


def test_a_grid_point_naming_an_unknown_setting_raises():
    with pytest.raises(ValueError, match=r"DBSCANBuilder has no settings \['radius'\]"):
        scan_builder(BUILDER, EVENTS, {"radius": [0.5]})
    with pytest.raises(ValueError, match=r"DBSCANBuilder has no settings \['radius'\]"):
        scan_builder(BUILDER, EVENTS, {"eps": [0.5], "radius": [0.5]})
    with pytest.raises(ValueError, match=r"DBSCANBuilder has no settings \['radius'\]"):  # the first mapping
        scan_builder(BUILDER, EVENTS, [{"radius": [0.5]}, {"eps": [0.5]}])


def test_an_unknown_setting_in_a_later_grid_mapping_raises():
    with pytest.raises(ValueError, match=r"DBSCANBuilder has no settings \['threshold'\]"):
        scan_builder(BUILDER, EVENTS, [{"eps": [0.5]}, {"threshold": [0.5]}])


def test_two_grid_points_that_are_one_setting_raise():
    with pytest.raises(ValueError, match="names one setting twice"):
        scan_builder(BUILDER, EVENTS, [{"eps": [0.5]}, {"eps": [0.5]}])
    # {min_samples: 2} leaves eps at the builder's 0.5: the same setting as {eps: 0.5}
    with pytest.raises(ValueError, match="names one setting twice"):
        scan_builder(BUILDER.with_settings(eps=0.5), EVENTS, [{"eps": [0.5]}, {"min_samples": [2]}])


def test_without_a_candidate_need_best_false_returns_the_table():
    grid = {"eps": [0.01, 0.012]}  # eps < 0.02: no 3 hits within reach
    builder = BUILDER.with_settings(min_hits=3)
    with pytest.raises(NoFiniteObjectiveError, match=r"No \(eps\) setting gave a finite objective"):
        scan_builder(builder, EVENTS, grid)
    scan = scan_builder(builder, EVENTS, grid, need_best=False)
    assert list(scan.table["eps"]) == [0.01, 0.012] and (scan.table["n_candidates"] == 0).all()
    assert scan.table["objective"].isna().all()
    assert scan.best_params == {} and np.isnan(scan.best_objective) and scan.best_evaluations == ()
    assert issubclass(NoFiniteObjectiveError, ValueError)


def test_postprocess_judges_each_setting_after_it():
    def split_in_two(candidates: TrackCandidates) -> TrackCandidates:
        """Every track loses its first two rows."""
        frame = candidates.to_frame()
        frame = frame[frame.groupby("track_id").cumcount() >= 2]
        return TrackCandidates.from_frame(frame)

    grid = {"eps": [0.5, 1.5], "min_samples": [2]}
    raw = scan_builder(BUILDER, EVENTS, grid)
    post = scan_builder(BUILDER, EVENTS, grid, postprocess=[split_in_two] * len(EVENTS))
    assert raw.best_params["eps"] == post.best_params["eps"] == 0.5
    # each particle keeps 3 of its 5 hits: still double-majority matched, no longer perfectly
    assert raw.best["perfect_efficiency"] == 1.0 and post.best["perfect_efficiency"] == 0.0
    assert post.best["dm_efficiency"] == 1.0
    with pytest.raises(ValueError, match="one postprocess function per event"):
        scan_builder(BUILDER, EVENTS, {"eps": [0.5], "min_samples": [2]}, postprocess=[split_in_two])
