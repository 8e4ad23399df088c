"""``trackcore compare`` end to end on the tiny preset: every family trained, evaluated and reported."""

from __future__ import annotations

import json
from pathlib import Path

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
    results = text.split("\n## ")[0]  # the results table, before the training table
    rows = [line for line in results.splitlines() if line.startswith("| ") and not line.startswith("| family")]
    assert [row.split("|")[1].strip() for row in rows] == ["ec", "oc", "eggnet", "hgnn"]
    training = text.split("\n## Training\n")[1].split("\n## ")[0]
    steps = [line.split("|")[1].strip() for line in training.splitlines() if line.startswith("| ")][1:]
    assert steps == ["ml", "ec", "oc", "eggnet", "hgnn"]  # every step once, shared ones too
    metrics = json.loads((report / "metrics.json").read_text())
    for family in ("ec", "oc", "eggnet", "hgnn"):
        entry = metrics["families"][family]
        assert 0.0 <= entry["summary"]["dm_efficiency"] <= 1.0 and entry["n_parameters"] > 1000
        n = round(entry["summary"]["n_candidates"])
        fakes = round(entry["summary"]["dm_fake_rate"] * n) if n else None
        row = next(r for r in rows if r.split("|")[1].strip() == family)
        header = next(line for line in results.splitlines() if line.startswith("| family")).split("|")
        fake_cell = row.split("|")[header.index(" DM fake ")]
        assert (f" of {n:,})" in fake_cell and f"({fakes:,} of" in row) if n else "n/a" in fake_cell
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
    # the reused stages' inference times are those recorded when they were written (stage/timing.json)
    assert json.loads((report / "work" / "stages" / "ec" / "timing.json").read_text())["predict_seconds"] > 0
    ec_row = next(line for line in again.splitlines() if line.startswith("| ec |"))
    assert "reused (trained before)" in ec_row and not ec_row.rstrip(" |").endswith("reused")
    assert json.loads((report / "metrics.json").read_text())["families"]["ec"]["inference_seconds_per_event"]["ec"] > 0

    # --models-from: predict with the first comparison's checkpoints, train nothing; on the same events
    # the same models give the same tracks
    transfer = tmp_path / "transfer"
    models = ["--models-from", str(report / "work")]
    assert main([*args[:5], "--out", str(transfer), "--families", "ec,hgnn", *models]) == 0
    assert not (transfer / "work" / "runs" / "ml").exists() and (transfer / "work" / "runs" / "ml-predict").is_dir()
    moved = json.loads((transfer / "metrics.json").read_text())
    assert moved["models_from"] == str((report / "work").resolve())
    for family in ("ec", "hgnn"):
        assert moved["families"][family]["summary"] == metrics["families"][family]["summary"]
        assert moved["families"][family]["checkpoints"] == metrics["families"][family]["checkpoints"]
    assert "none here (models of --models-from)" in (transfer / "report.md").read_text()


def test_plan_names_bad_families_and_data(tmp_path):
    with pytest.raises(ValueError, match="unknown families"):
        plan_comparison(["ec", "gnn"], data="small", work_dir=tmp_path)
    with pytest.raises(ValueError, match="not 'tiny', 'small', 'trackml', 'real', an ACTS preset or a folder"):
        plan_comparison(["ec"], data=str(tmp_path / "missing"), work_dir=tmp_path)
    plan = plan_comparison(["oc"], data="real", work_dir=tmp_path, quick=True)
    assert [s.name for s in plan.steps["oc"]] == ["ml", "ec", "oc"]
    assert all("real_pt1" in s.config.name for s in plan.steps["oc"])
    assert "--trainer.max_epochs=3" in plan.train_args
    assert not any("n_train" in a for a in plan.data_args)  # a folder keeps its splits: same test events


def test_quick_mode_on_a_preset_simulates_only_what_it_trains_on(tmp_path):
    plan = plan_comparison(["eggnet"], data="small", work_dir=tmp_path, quick=True)
    assert plan.data_args[-3:] == ("--data.init_args.n_train=15", "--data.init_args.n_val=5",
                                   "--data.init_args.n_test=10")
    assert "--trainer.limit_train_batches=15" in plan.train_args
    assert not any("n_train" in a for a in plan_comparison(["eggnet"], data="small", work_dir=tmp_path).data_args)


def test_models_from_needs_a_run_of_every_step(tmp_path):
    ckpt = tmp_path / "old" / "runs" / "ml" / "version_0" / "checkpoints" / "epoch=1.ckpt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"")
    with pytest.raises(FileNotFoundError, match=r"missing/runs/eggnet: no run with a checkpoint here"):
        plan_comparison(["eggnet"], data="small", work_dir=tmp_path, models_from=tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match=r"old/runs/ec: no run with a checkpoint here"):
        plan_comparison(["ec"], data="small", work_dir=tmp_path, models_from=tmp_path / "old")


def test_folder_data_is_split_80_10_10_and_takes_a_benchmark(tmp_path):
    from trackcore.compare.pipeline import folder_splits
    from trackcore.data.simulation import simulate_events

    simulate_events("tiny", n_events=12, seed=0, out_dir=tmp_path / "events", progress=False)
    assert folder_splits(tmp_path / "events") == (10, 1, 1)
    plan = plan_comparison(["ec"], data=str(tmp_path / "events"), work_dir=tmp_path, benchmark="pt1_all")
    assert "--data.init_args.n_train=10" in plan.data_args and "--data.init_args.benchmark=pt1_all" in plan.data_args
    with pytest.raises(ValueError, match="unknown benchmark 'pt2'"):
        plan_comparison(["ec"], data=str(tmp_path / "events"), work_dir=tmp_path, benchmark="pt2")
    with pytest.raises(ValueError, match="acts-ckf needs ACTS-simulated data"):
        plan_comparison(["acts-ckf"], data=str(tmp_path / "events"), work_dir=tmp_path)


def test_acts_presets_take_their_own_configs_where_they_exist(tmp_path, monkeypatch):
    from trackcore.compare.pipeline import step_configs

    acts = step_configs("acts")
    small = step_configs()
    assert acts["ec"].name == "acts_edge_classifier.yaml" and acts["ec"].is_file()
    assert all(acts[f].name == "acts.yaml" and acts[f].parent.parent.name == f for f in ("oc", "eggnet", "hgnn"))
    assert acts["ml"] == small["ml"]  # no ACTS config of its own: the small one
    assert step_configs("real_pt1")["ec"].name == "real_pt1_edge_classifier.yaml"
    # an ACTS preset's folder in data/ gets them in a comparison plan
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "acts-ttbar-mu20").mkdir(parents=True)
    for i in range(10):
        (tmp_path / "data" / "acts-ttbar-mu20" / f"event{i:09d}-hits.csv").touch()
    plan = plan_comparison(["ec", "oc"], data="acts-ttbar-mu20", work_dir=tmp_path / "work")
    assert [s.config.name for s in plan.steps["oc"]] == ["small_metric_learning.yaml", "acts_edge_classifier.yaml",
                                                          "acts.yaml"]
    # so does any folder `trackcore simulate --engine acts` wrote (its simulation.json says so), and only such
    other = tmp_path / "more-acts-events"
    other.mkdir()
    for i in range(10):
        (other / f"event{i:09d}-hits.csv").touch()
    assert plan_comparison(["ec"], data=str(other), work_dir=tmp_path / "w").steps["ec"][1].config.name == (
        "small_edge_classifier.yaml")
    (other / "simulation.json").write_text('{"engine": "acts", "n_events": 10}')
    assert plan_comparison(["ec"], data=str(other), work_dir=tmp_path / "w").steps["ec"][1].config.name == (
        "acts_edge_classifier.yaml")
    (other / "simulation.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="simulation.json: not a JSON object"):
        plan_comparison(["ec"], data=str(other), work_dir=tmp_path / "w")


def test_refine_settings_go_to_every_family_step_and_unknown_ones_are_named(tmp_path):
    plan = plan_comparison(["ec", "oc"], data="small", work_dir=tmp_path,
                           refine=["max_holes=2", "hole_volumes=[7,8,9,12,13,14,16,17,18]"])
    assert plan.refine_args == ("--model.init_args.refine.max_holes=2",
                                "--model.init_args.refine.hole_volumes=[7,8,9,12,13,14,16,17,18]")
    with pytest.raises(ValueError, match="no such refinement setting"):
        plan_comparison(["ec"], data="small", work_dir=tmp_path, refine=["max_hole=2"])
    with pytest.raises(ValueError, match="KEY=VALUE"):
        plan_comparison(["ec"], data="small", work_dir=tmp_path, refine=["max_holes"])
    # the override parses into the config's refinement (LightningCLI), on top of its other settings
    from trackcore.compare.pipeline import step_configs
    from trackcore.train.cli import main as train_main

    cli = train_main(["--config", str(step_configs("acts")["ec"]), "--trainer.logger=false",
                      *plan.refine_args], run=False)
    refine = cli.model.refine
    assert (refine.max_holes, refine.hole_volumes, refine.fill_holes, refine.min_layers) == (
        2, (7, 8, 9, 12, 13, 14, 16, 17, 18), True, 3)


def test_ckf_stage_keeps_the_selected_hits_of_each_track(tmp_path):
    import pandas as pd
    import torch

    from trackcore.compare.acts_ckf import write_ckf_stage
    from trackcore.data import process_event
    from trackcore.data.processing import get_benchmark
    from trackcore.data.simulation import simulate_event
    from trackcore.metrics.stage_report import evaluate_stage

    raw = simulate_event("tiny", seed=0, event_id=1000)
    event = process_event(raw, get_benchmark("pt1_pixel"))
    kept = set(event.hit_id.tolist())
    dropped = [h for h in raw.hits["hit_id"] if h not in kept][:2]
    truth = raw.truth.set_index("hit_id").loc[sorted(kept)]
    # a perfect "CKF": one track per particle, plus two hits the selection removed
    table = pd.DataFrame({"hit_id": truth.index, "track_id": truth["particle_id"].to_numpy()})
    extra = 999_999_999_999  # a track made only of hits the selection removed
    table = pd.concat([table, pd.DataFrame({"hit_id": dropped, "track_id": [extra, extra]})])
    (tmp_path / "data" / "acts-ckf").mkdir(parents=True)
    table.to_csv(tmp_path / "data" / "acts-ckf" / "event000001000-candidates.csv", index=False)
    assert write_ckf_stage([event], tmp_path / "data", tmp_path / "stage") == 1
    saved = torch.load(tmp_path / "stage" / "test" / "event000001000.pt", weights_only=False)
    assert set(saved.track_hit_id.tolist()) == kept and extra not in saved.track_id.tolist()
    summary = evaluate_stage(tmp_path / "stage").tracking.summary()
    assert summary["dm_efficiency"] == 1.0 and summary["dm_fake_rate"] == 0.0
    with pytest.raises(FileNotFoundError, match="no ACTS CKF candidates for this event"):
        write_ckf_stage([event], tmp_path / "nothing", tmp_path / "stage2")


def test_model_settings_given_to_fit_reach_predict_too(tmp_path, monkeypatch):
    """A model override after `--` (e.g. a 2-iteration network) must also build the predicted model,
    or the trained checkpoint does not load; trainer settings stay with fit."""
    import torch

    import trackcore.train.cli as train_cli
    from trackcore.compare.pipeline import run_family

    calls: list[list[str]] = []

    def value(argv: list[str], key: str) -> Path:
        return Path(next(a.split("=", 1)[1] for a in argv if a.startswith(f"--{key}=")))

    def fake_main(argv: list[str], **_: object) -> None:
        calls.append(argv)
        if argv[0] == "fit":
            run = value(argv, "run_name")
            (Path(run) / "version_0" / "checkpoints").mkdir(parents=True)
            torch.save({"state_dict": {}}, Path(run) / "version_0" / "checkpoints" / "epoch=0.ckpt")
        else:
            (value(argv, "predict_dir") / "test").mkdir(parents=True)

    monkeypatch.setattr(train_cli, "main", fake_main)
    monkeypatch.setattr("trackcore.train.loggers.finish_wandb_run", lambda: None)
    plan = plan_comparison(["eggnet"], data="tiny", work_dir=tmp_path,
                           train_args=["--trainer.max_epochs=1", "--model.init_args.model.init_args.n_iterations=2"])
    run_family("eggnet", plan, {})
    fit, predict = calls
    smaller = "--model.init_args.model.init_args.n_iterations=2"
    assert fit[0] == "fit" and "--trainer.max_epochs=1" in fit and smaller in fit
    assert predict[0] == "predict" and smaller in predict
    assert "--trainer.max_epochs=1" not in predict


def test_follow_strips_rows_score_a_familys_pixel_tracks_followed_into_the_strips(tmp_path, monkeypatch, capsys):
    from tests.trackcore.builders.helpers import full_and_pixel_stages
    from trackcore.compare import write_report
    from trackcore.compare.follow import follow_family
    from trackcore.metrics import ParticlesOfInterest
    from trackcore.refinement.follow import StripFollowing

    full, pixel_work = full_and_pixel_stages(tmp_path)
    plan = plan_comparison(["ec"], data="tiny", work_dir=tmp_path / "work")
    result = follow_family("ec", pixel_work, full, plan, StripFollowing(min_hits=5))
    assert result.family == "ec+follow" and list(result.steps) == ["ec pixel tracks", "follow"]
    assert result.steps["follow"].n_events == 1 and result.steps["follow"].predict_seconds > 0
    report = write_report({"ec+follow": result}, tmp_path / "report", poi=ParticlesOfInterest(), data="tiny",
                          quick=False)
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())["families"]["ec+follow"]
    assert metrics["summary"]["dm_efficiency"] > 0.8 and metrics["summary"]["dm_fake_rate"] < 0.05
    assert "| ec+follow |" in report.read_text()
    # named errors: a work dir without the family's pixel stage, and pixel events as the "full" ones
    with pytest.raises(FileNotFoundError, match="no oc pixel tracks"):
        follow_family("oc", pixel_work, full, plan)
    with pytest.raises(ValueError, match="needs --benchmark pt1_all or full"):
        follow_family("ec", pixel_work, pixel_work / "stages" / "ec", plan)
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "--data", "tiny", "--follow-strips", str(pixel_work)]) == 2
    assert "needs --benchmark pt1_all or full" in capsys.readouterr().err
    assert main(["compare", "--data", "tiny", "--follow", "max_holes=1"]) == 2
    assert "--follow-strips, which is not given" in capsys.readouterr().err
    args = ["compare", "--data", "tiny", "--benchmark", "full", "--follow-strips", str(pixel_work),
            "--follow", "holes=1"]
    assert main(args) == 2
    assert "no such strip-following setting" in capsys.readouterr().err
    # a work dir without any pixel stage fails before anything is trained
    args = ["compare", "--data", "tiny", "--benchmark", "pt1_all", "--follow-strips", str(tmp_path / "work")]
    assert main(args) == 2
    assert "no family's pixel stage" in capsys.readouterr().err and not (tmp_path / "reports").exists()


def test_quick_mode_writes_only_val_and_test_of_the_stages_no_step_reads(tmp_path, monkeypatch):
    """The report scores val/test; a stage another step trains on (ml, ec for oc) keeps its train split."""
    import torch

    import trackcore.train.cli as train_cli
    from trackcore.compare.pipeline import run_family

    calls: list[list[str]] = []

    def fake_main(argv: list[str], **_: object) -> None:
        calls.append(argv)
        if argv[0] == "fit":
            run = Path(next(a.split("=", 1)[1] for a in argv if a.startswith("--run_name=")))
            (run / "version_0" / "checkpoints").mkdir(parents=True)
            torch.save({"state_dict": {}}, run / "version_0" / "checkpoints" / "epoch=0.ckpt")
        else:
            stage = Path(next(a.split("=", 1)[1] for a in argv if a.startswith("--predict_dir=")))
            (stage / "test").mkdir(parents=True)

    monkeypatch.setattr(train_cli, "main", fake_main)
    monkeypatch.setattr("trackcore.train.loggers.finish_wandb_run", lambda: None)
    for quick in (True, False):
        calls.clear()
        plan = plan_comparison(["oc"], data="tiny", work_dir=tmp_path / str(quick), quick=quick)
        run_family("oc", plan, {})
        predicted = {next(a for a in argv if a.startswith("--predict_dir=")).rsplit("/", 1)[1]:
                     "--predict_splits=[val,test]" in argv for argv in calls if argv[0] == "predict"}
        assert predicted == {"ml": False, "ec": False, "oc": quick}


def test_the_training_events_of_a_stage_written_without_its_train_split_come_from_its_input(tmp_path):
    import yaml

    from trackcore.compare.report import _input_train_count

    stage = tmp_path / "ec" / "train"
    stage.mkdir(parents=True)
    for i in range(3):
        (stage / f"event{i:09d}.pt").write_bytes(b"")
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data": {"init_args": {"input_dir": str(tmp_path / "ec")}}}))
    assert _input_train_count(config) == 3
    config.write_text(yaml.safe_dump({"data": {"init_args": {"preset": "small", "n_train": 15}}}))
    assert _input_train_count(config) == 15
    config.write_text(yaml.safe_dump({"data": {"init_args": {"preset": "small"}}}))
    assert _input_train_count(config) is None
    assert _input_train_count(tmp_path / "missing.yaml") is None
