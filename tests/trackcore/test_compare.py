"""``trackcore compare`` end to end on the tiny preset: every family trained, evaluated and reported."""

from __future__ import annotations

import json

import pytest

from trackcore.cli import main
from trackcore.compare import plan_comparison


@pytest.mark.slow
def test_compare_end_to_end_on_tiny(tmp_path, monkeypatch, single_thread):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "report"
    args = ["compare", "--data", "tiny", "--data-root", str(tmp_path / "data"), "--out", str(report), "--",
            "--trainer.max_epochs=1", "--trainer.limit_train_batches=2", "--trainer.enable_progress_bar=false"]
    assert main(args) == 0
    text = (report / "report.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| family")]
    assert [row.split("|")[1].strip() for row in rows] == ["ec", "oc", "eggnet", "hgnn"]
    metrics = json.loads((report / "metrics.json").read_text())
    for family in ("ec", "oc", "eggnet", "hgnn"):
        entry = metrics["families"][family]
        assert 0.0 <= entry["summary"]["dm_efficiency"] <= 1.0 and entry["n_parameters"] > 1000
        assert entry["train_seconds"] > 0 and all(v > 0 for v in entry["inference_seconds_per_event"].values())
        assert list((report / "configs").glob(f"{family}_*.yaml"))
        assert list((report / "displays").glob(f"{family}_event*.png"))
    # the graph stage is trained once and shared by ec, oc and hgnn
    assert metrics["families"]["oc"]["checkpoints"]["ml"] == metrics["families"]["hgnn"]["checkpoints"]["ml"]
    for name in ("efficiency_pt", "efficiency_eta", "fake_rate_eta", "summary"):
        assert (report / f"{name}.png").stat().st_size > 10_000
        assert f"({name}.png)" in text

    # a second run reuses every stage and says so
    assert main(args[:7]) == 0
    again = (report / "report.md").read_text()
    assert "reused" in again


def test_plan_names_bad_families_and_data(tmp_path):
    with pytest.raises(ValueError, match="unknown families"):
        plan_comparison(["ec", "gnn"], data="small", work_dir=tmp_path)
    with pytest.raises(ValueError, match="not 'tiny', 'small', 'real', an ACTS preset or a folder"):
        plan_comparison(["ec"], data=str(tmp_path / "missing"), work_dir=tmp_path)
    plan = plan_comparison(["oc"], data="real", work_dir=tmp_path, quick=True)
    assert [s.name for s in plan.steps["oc"]] == ["ml", "ec", "oc"]
    assert all("real_pt1" in s.config.name for s in plan.steps["oc"])
    assert "--trainer.max_epochs=3" in plan.train_args
