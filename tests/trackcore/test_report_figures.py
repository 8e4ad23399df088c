"""The report of `trackcore compare`: training per step (shared steps, epochs, epoch-0 checkpoints,
training events), figures and event displays, on a hand-made work dir (no training)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from trackcore.compare.pipeline import FamilyResult, StepRecord
from trackcore.compare.report import StepTraining, read_step_training, write_report
from trackcore.metrics import ParticlesOfInterest

EVENT = "event000001000.pt"


@pytest.fixture(scope="module")
def event():
    from trackcore.data import process_event
    from trackcore.data.processing import get_benchmark
    from trackcore.data.simulation.presets import get_preset
    from trackcore.data.simulation.simulate import simulate_event

    return process_event(simulate_event(get_preset("tiny"), seed=1, event_id=1000), get_benchmark("pt1_pixel"))


def _stage(work: Path, step: str, event, candidates: tuple[np.ndarray, np.ndarray] | None, n_train: int) -> Path:
    stage = work / "stages" / step
    (stage / "test").mkdir(parents=True)
    (stage / "train").mkdir()
    if candidates is not None:
        event = event.clone()
        event.track_hit_id, event.track_id = torch.from_numpy(candidates[0]), torch.from_numpy(candidates[1])
    torch.save(event, stage / "test" / EVENT)
    for i in range(n_train):
        (stage / "train" / f"event{i:09d}.pt").write_bytes(b"")  # only counted
    return stage


def _run(work: Path, step: str, best: int, last: int | None, train_seconds: float, limit: int | None = 2) -> StepRecord:
    version = work / "runs" / step / "version_0"
    (version / "checkpoints").mkdir(parents=True)
    checkpoint = version / "checkpoints" / f"epoch={best}-step={2 * best + 2}.ckpt"
    torch.save({"epoch": best, "state_dict": {}}, checkpoint)
    if last is not None:
        torch.save({"epoch": last, "state_dict": {}}, version / "checkpoints" / "last.ckpt")
    config = version / "config.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"max_epochs": 3, "limit_train_batches": limit},
                                      "data": {"init_args": {"batch_size": 1}}}))
    return StepRecord(train_seconds=train_seconds, predict_seconds=1.0, n_events=5, checkpoint=checkpoint,
                      config=config)


def comparison(tmp_path: Path, event, *, ec_last: int | None = 2) -> dict[str, FamilyResult]:
    """ec (ml -> ec) and oc (ml -> ec -> oc) on one tiny test event: ml and ec shared, ec's checkpoint
    from epoch 0; ec's tracks one per particle, oc's the same plus a fake of 3 particles' hits."""
    work = tmp_path / "work"
    pid, hit_id = event.particle_id.numpy(), event.hit_id.numpy()
    truth = (hit_id[pid > 0], pid[pid > 0])
    firsts = hit_id[np.unique(pid, return_index=True)[1]][1:4]  # one hit of each of 3 particles
    with_fake = (np.r_[truth[0], firsts], np.r_[truth[1], [10**6] * 3])
    _stage(work, "ml", event, None, 4)
    ml = _run(work, "ml", best=2, last=2, train_seconds=10.0)
    ec = _run(work, "ec", best=0, last=ec_last, train_seconds=20.0)
    oc = _run(work, "oc", best=1, last=2, train_seconds=30.0, limit=None)
    results = {
        "ec": FamilyResult("ec", _stage(work, "ec", event, truth, 4), {"ml": ml, "ec": ec}),
        "oc": FamilyResult("oc", _stage(work, "oc", event, with_fake, 4), {"ml": ml, "ec": ec, "oc": oc}),
    }
    return results


@pytest.fixture(scope="module")
def written(tmp_path_factory, event) -> Path:
    """The report folder of :func:`comparison`, figures and displays included (written once: seconds)."""
    tmp = tmp_path_factory.mktemp("compare")
    write_report(comparison(tmp, event), tmp / "report", poi=ParticlesOfInterest(), data="tiny", quick=True)
    return tmp / "report"


@pytest.fixture
def no_figures(monkeypatch):
    """write_report without drawing (the tests of its tables)."""
    import trackcore.viz

    monkeypatch.setattr(trackcore.viz, "plot_tracking_rates", lambda *a, **k: [])
    monkeypatch.setattr(trackcore.viz, "plot_event_display", lambda pos, path, **k: Path(path))


@pytest.mark.slow
def test_training_is_split_by_step_with_epochs_and_events(written):
    report = (written / "report.md").read_text()
    rows: dict[str, str] = {}
    for line in report.splitlines():  # the first row of a name is its family row, later ones its training rows
        if line.startswith("| "):
            rows.setdefault(line.split(" | ")[0][2:], line)
    assert rows["ec"].endswith("| 30 s = ml 10 s (shared) + ec 20 s (shared) | ml 0.20 s, ec 0.20 s |")
    assert "| 60 s = ml 10 s (shared) + ec 20 s (shared) + oc 30 s |" in rows["oc"]
    assert "| ml | ec, oc | 10 s | 3 | 2 | 4 (2 per epoch) |" in report
    assert "| ec | ec, oc | 20 s | 3 | **0 (first epoch: never improved)** | 4 (2 per epoch) |" in report
    assert "| oc | oc | 30 s | 3 | 1 | 4 |" in report
    assert ("- **ec** (used by ec, oc): the checkpoint used is from epoch 0, the first of 3: the model never "
            "improved on validation after its first epoch.") in report
    assert "**oc**" not in report and "**ml**" not in report


@pytest.mark.slow
def test_metrics_json_figures_and_displays(written):
    report = (written / "report.md").read_text()
    metrics = json.loads((written / "metrics.json").read_text())  # strict JSON: no NaN
    assert metrics["families"]["oc"]["training"]["ec"] == {
        "epochs": 3, "best_epoch": 0, "n_train_events": 4, "train_events_per_epoch": 2, "used_by": ["ec", "oc"],
        "train_seconds": 20.0, "trained_elsewhere": False,
    }
    assert metrics["families"]["oc"]["summary"]["dm_fake_rate"] > 0 == metrics["families"]["ec"]["summary"][
        "dm_fake_rate"]
    names = {"efficiency_pt.png", "efficiency_eta.png", "fake_rate_eta.png", "summary.png",
             f"displays/ec_{Path(EVENT).stem}.png", f"displays/oc_{Path(EVENT).stem}.png"}
    for name in names:
        assert (written / name).stat().st_size > 0
        assert f"]({name})" in report
    assert "candidate's eta (the median of its hits' eta)" in report
    assert not list(written.rglob("*.tmp")), "a temporary file was left behind"


def test_given_training_wins_and_unknowns_are_marked(tmp_path, event, no_figures):
    results = comparison(tmp_path, event, ec_last=None)
    assert read_step_training(results["ec"].steps["ec"]) == StepTraining(
        epochs=None, best_epoch=0, n_train_events=4, train_events_per_epoch=2
    )
    report = write_report(results, tmp_path / "report", poi=ParticlesOfInterest(), data="tiny", quick=False,
                          training={"ml": StepTraining(epochs=8, best_epoch=7, n_train_events=80)}).read_text()
    assert "| ml | ec, oc | 10 s | 8 | 7 | 80 |" in report
    assert "| ec | ec, oc | 20 s | ? | **0 (first epoch: never improved)** | 4 (2 per epoch) |" in report
    assert "checkpoint used is from epoch 0, the first: the model never improved" in report


def test_unreadable_checkpoint_is_named(tmp_path, event, no_figures):
    results = comparison(tmp_path, event)
    last = Path(results["ec"].steps["ec"].checkpoint).with_name("last.ckpt")
    last.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"last\.ckpt: not a readable checkpoint"):
        write_report(results, tmp_path / "report", poi=ParticlesOfInterest(), data="tiny", quick=False)
    assert not (tmp_path / "report" / "report.md").exists()


def test_reused_and_baseline_steps():
    from trackcore.compare.report import _training

    reused = StepRecord(train_seconds=math.nan, predict_seconds=math.nan, n_events=1, checkpoint=None,
                        config=Path("c.yaml"))
    trained = StepRecord(train_seconds=12.0, predict_seconds=1.0, n_events=1, checkpoint=None, config=Path("c.yaml"))
    oc = FamilyResult("oc", Path("s"), {"ml": reused, "oc": trained})
    assert _training(oc, {"ml": ["ec", "oc"], "oc": ["oc"]}) == "12 s = ml reused (shared) + oc 12 s"
    assert _training(FamilyResult("acts-ckf", Path("s"), {"acts-ckf": trained}), {"acts-ckf": ["acts-ckf"]}) == (
        "none (not trained)"
    )
