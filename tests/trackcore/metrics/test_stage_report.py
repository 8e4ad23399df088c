"""`trackcore evaluate`: a stage folder's outputs to pooled metrics, JSON and plots."""

from __future__ import annotations

import json

import pytest
import torch

from tests.conftest import make_event
from trackcore.cli import main
from trackcore.data import ProcessingConfig, process_event
from trackcore.metrics.stage_report import evaluate_stage, evaluate_stage_events


def _event(event_id: int, *, graph: bool = True, tracks: bool = True, wrong_edge: bool = False):
    ev = make_event(n_particles=3, hits_per_particle=4, n_noise=2, seed=event_id)
    ev.event_id = event_id
    data = process_event(ev, ProcessingConfig())
    if graph:
        edges = data.track_edges.clone()
        scores = torch.ones(edges.shape[1])
        if wrong_edge:  # one extra edge between two particles, scored low: cut away
            pid = data.particle_id
            i = int(torch.nonzero(pid == pid.unique()[1])[0])
            j = int(torch.nonzero(pid == pid.unique()[2])[0])
            edges = torch.cat([edges, torch.tensor([[i], [j]])], dim=1)
            scores = torch.cat([scores, torch.tensor([0.2])])
        data.edge_index, data.edge_score = edges, scores
    if tracks:  # the truth itself: every particle one candidate, noise left out
        keep = data.particle_id > 0
        data.track_hit_id = data.hit_id[keep].clone()
        data.track_id = data.particle_id[keep].clone()
    return data


def _write(folder, events):
    folder.mkdir(parents=True)
    for data in events:
        torch.save(data, folder / f"event{int(data.event_id):09d}.pt")


def test_perfect_outputs_pool_to_perfect_metrics():
    events = [_event(1000 + i, wrong_edge=True) for i in range(3)]
    report = evaluate_stage_events([(f"e{i}", e) for i, e in enumerate(events)], edge_cut=0.5)
    d = report.to_dict()
    assert d["n_events"] == 3
    # Two of three particles per event have pT > 1 GeV (make_event: 0.5, 1.25, 2.0 GeV), 3 truth edges each.
    assert d["edges"]["counts"]["n_target"] == 3 * 2 * 3
    assert d["edges"]["efficiency"] == 1.0 and d["edges"]["purity_same_particle"] == 1.0
    assert d["edges"]["auc"] == 1.0  # the cross-particle edge scores below every true one
    assert d["tracking"]["dm_efficiency"] == 1.0 and d["tracking"]["dm_fake_rate"] == 0.0
    assert d["tracking_counts"]["particles_of_interest"] == 6


def test_a_stage_without_tracks_reports_only_edges():
    d = evaluate_stage_events([("e", _event(1000, tracks=False))]).to_dict()
    assert "edges" in d and "tracking" not in d


def test_mixed_stage_outputs_are_an_error():
    with pytest.raises(ValueError, match="1 of 2 events carry track candidates"):
        evaluate_stage_events([("a", _event(1000)), ("b", _event(1001, tracks=False))], stage_dir="s",
                              split="test")


def test_missing_folder_and_split_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such stage folder"):
        evaluate_stage(tmp_path / "nope")
    (tmp_path / "val").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no split 'test' in this stage folder \(it has \['val'\]\)"):
        evaluate_stage(tmp_path)
    with pytest.raises(FileNotFoundError, match="no event"):
        evaluate_stage(tmp_path, split="val")


def test_unreadable_or_incomplete_files_are_named(tmp_path):
    folder = tmp_path / "stage" / "test"
    folder.mkdir(parents=True)
    (folder / "event000001000.pt").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match=r"event000001000\.pt: not a readable stage output"):
        evaluate_stage(tmp_path / "stage")
    data = _event(1000)
    del data.track_edges
    torch.save(data, folder / "event000001000.pt")
    with pytest.raises(ValueError, match=r"event000001000\.pt: cannot evaluate this stage output: .*track_edges"):
        evaluate_stage(tmp_path / "stage")


def test_cli_writes_json_and_plots(tmp_path, capsys):
    _write(tmp_path / "stage" / "test", [_event(1000 + i) for i in range(2)])
    out = tmp_path / "report"
    assert main(["evaluate", str(tmp_path / "stage"), "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["n_events"] == 2
    assert metrics["tracking"]["dm_efficiency"] == 1.0
    assert "cpu_model" in metrics["machine"]
    for name in ("efficiency_pt.png", "efficiency_eta.png", "fake_rate_eta.png", "summary.png"):
        assert (out / name).stat().st_size > 1000
    assert "dm_efficiency 1" in capsys.readouterr().out


def test_cli_names_a_missing_folder(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    assert "no such stage folder" in capsys.readouterr().err
