"""Full-event comparisons: nothing removed with the truth, the geometric baseline as a row, another test source."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trackcore.cli import main
from trackcore.compare import plan_comparison
from trackcore.compare.pipeline import REAL_DATA, refinement_settings, step_configs
from trackcore.data.processing import BENCHMARKS, FULL_EVENT_BENCHMARKS, get_benchmark, process_event
from trackcore.data.simulation import simulate_event, simulate_events
from trackcore.family import load_families


def test_full_benchmarks_keep_every_hit_noise_and_soft_particles():
    event = simulate_event("tiny", seed=3, event_id=1000)
    hits = event.hits
    data = process_event(event, get_benchmark("full_pixel"))
    pixel = hits["volume_id"].isin([7, 8, 9]).to_numpy()
    assert data.num_nodes == int(pixel.sum())  # nothing dropped
    assert (data.particle_id == 0).any()  # noise kept
    assert ((data.pt > 0) & (data.pt < 1.0)).any()  # soft particles kept
    assert data.selection["kept"]["hits"] == data.num_nodes
    assert process_event(event, get_benchmark("full")).num_nodes == len(hits)
    for name in FULL_EVENT_BENCHMARKS:
        config = BENCHMARKS[name]
        assert config.min_pt is None and not config.remove_noise and not config.labelled_only


def test_every_step_ships_a_full_pixel_config_reading_full_events():
    import yaml

    configs = step_configs("full_pixel")
    assert set(configs) >= {"ml", *load_families()}
    for path in configs.values():
        assert path.name.startswith("full_pixel"), path
        text = yaml.safe_load(path.read_text())
        benchmark = text["data"]["init_args"].get("benchmark")
        assert benchmark in (None, "full_pixel"), f"{path}: benchmark {benchmark}"
    # the raw-event steps select every pixel hit
    assert yaml.safe_load(configs["ml"].read_text())["data"]["init_args"]["benchmark"] == "full_pixel"


def test_every_full_pixel_family_applies_the_geometric_baselines_quality_cut_and_search():
    """The families and the baseline are judged by one quality cut (holes, layers), and the families
    run the baseline's helix search (recover) on the hits their candidates leave (chosen on the `small`
    validation events), then its search off the beam line (displaced): a family above the baseline found
    what the geometry alone does not. Only the
    beam-line distance of 3-layer candidates is chosen per family on its validation events: 0.5 mm for
    EC (with its second pass) and the baseline, 1 mm where 0.5 mm lowered the DM (OC, HGNN; EggNet alike)."""
    import yaml

    from trackcore.compare.geometric import GEOMETRIC_SETTINGS

    cut = {k: v for k, v in GEOMETRIC_SETTINGS.items() if k not in ("recover", "displaced")}
    assert cut == {"max_holes": 1, "span_holes_from": 5, "min_layers": 3, "short_d0": (3, 0.5)}
    assert GEOMETRIC_SETTINGS["recover"]
    assert GEOMETRIC_SETTINGS["displaced"] == {"min_layers": 3, "min_pt": 0.9, "retries": 1}
    short_d0 = {"ec": (3, 0.5), "oc": (3, 1.0), "eggnet": (3, 1.0), "hgnn": (3, 1.0)}
    steps = step_configs("full_pixel")
    assert set(steps) - {"ml"} == set(short_d0)
    for name, path in steps.items():
        if name == "ml":
            continue
        refine = yaml.safe_load(path.read_text())["model"]["init_args"]["refine"]
        refine = {k: tuple(v) if isinstance(v, list) else v for k, v in refine.items()}
        assert refine == {**GEOMETRIC_SETTINGS, "short_d0": short_d0[name]}, f"{path}: refine {refine}"


def test_a_full_event_plan_takes_the_full_configs_and_can_test_on_real_events(tmp_path):
    plan = plan_comparison(["ec", "geometric"], data="small", work_dir=tmp_path, benchmark="full_pixel")
    assert all(s.config.name.startswith("full_pixel") for s in plan.steps["ec"])
    assert [s.name for s in plan.steps["geometric"]] == ["geometric"]
    assert plan.data_args[-1] == "--data.init_args.benchmark=full_pixel"
    # real events with the configs of the small preset: the real folder, its splits, every pixel hit
    real = plan_comparison(["ec"], data="real", work_dir=tmp_path, benchmark="full_pixel", configs_from="small")
    assert f"--data.init_args.input_dir={REAL_DATA}" in real.data_args
    assert "--data.init_args.n_train=30" in real.data_args and "--data.init_args.preset=null" in real.data_args
    # the pT > 1 GeV real configs name their folder themselves
    assert not plan_comparison(["ec"], data="real", work_dir=tmp_path).data_args
    # TrackML density: the preset's own splits
    dense = plan_comparison(["ec"], data="trackml", work_dir=tmp_path, benchmark="full_pixel")
    assert "--data.init_args.preset=trackml" in dense.data_args
    # the small preset read with the configs of the real events is named explicitly
    back = plan_comparison(["ec"], data="small", work_dir=tmp_path, configs_from="real")
    assert "--data.init_args.preset=small" in back.data_args
    assert all("real_pt1" in s.config.name for s in back.steps["ec"])


def test_the_density_configs_are_the_trackml_ones_where_a_step_has_one_else_full_pixel():
    configs = step_configs("full_trackml")
    assert configs["ml"].name == "full_trackml_metric_learning.yaml"
    assert configs["ec"].name == "full_trackml_edge_classifier.yaml"
    full = step_configs("full_pixel")
    for step, path in configs.items():
        assert path.name.startswith("full_trackml") or path == full[step], step


def test_models_from_predicts_only_the_test_events(tmp_path):
    for step in ("ml", "ec"):
        ckpt = tmp_path / "old" / "runs" / step / "version_0" / "checkpoints" / "epoch=1.ckpt"
        ckpt.parent.mkdir(parents=True)
        ckpt.write_bytes(b"")
    plan = plan_comparison(["ec"], data="small", work_dir=tmp_path, models_from=tmp_path / "old")
    assert "--data.init_args.test_only=true" in plan.data_args


def test_test_only_datamodule_prepares_and_loads_the_test_events_alone(tmp_path):
    from trackcore.data.datamodule import TrackMLDataModule

    simulate_events("tiny", n_events=4, seed=0, out_dir=tmp_path / "events", progress=False)
    kwargs = dict(input_dir=str(tmp_path / "events"), n_train=2, n_val=1, n_test=1,
                  data_root=str(tmp_path / "cache"), progress=False, workers=1)
    dm = TrackMLDataModule(**kwargs, test_only=True)
    dm.prepare_data()
    dm.setup()
    assert dm.predict_splits == ["test"]
    assert len(dm.prepared) == 1  # one event processed: the test event
    full = TrackMLDataModule(**kwargs)
    full.prepare_data()
    full.setup()
    # the test split is the same event either way
    assert int(dm.datasets["test"][0].event_id) == int(full.datasets["test"][0].event_id)
    assert len(list((tmp_path / "cache" / "processed").rglob("event*.pt"))) == 4


def test_refinement_settings_are_read_as_values_and_unknown_keys_named():
    assert refinement_settings(["max_holes=0", "recover_window=[0.1, 0.5]", "crowd_d0=null"]) == {
        "max_holes": 0, "recover_window": [0.1, 0.5], "crowd_d0": None}
    with pytest.raises(ValueError, match="no such refinement setting"):
        refinement_settings(["max_hole=1"])
    # the displaced search's settings as one YAML mapping, or off
    from trackcore.compare.geometric import geometric_finder

    assert geometric_finder(refinement_settings(["displaced={min_layers: 4}"])).displaced.min_layers == 4
    assert geometric_finder(refinement_settings(["displaced=null"])).displaced is None


def test_geometric_stage_holds_the_helix_search_tracks_of_every_test_event(tmp_path):
    import torch

    from trackcore.compare.geometric import GEOMETRIC_SETTINGS, geometric_finder, write_geometric_stage
    from trackcore.metrics import EventTruth, ParticlesOfInterest, evaluate_tracks
    from trackcore.metrics.stage_report import stage_event_files

    events = [process_event(simulate_event("tiny", seed=0, event_id=1000 + i), get_benchmark("full_pixel"))
              for i in range(2)]
    finder = geometric_finder()
    assert finder.recover and finder.max_holes == GEOMETRIC_SETTINGS["max_holes"]
    assert geometric_finder({"max_holes": 0}).max_holes == 0
    n, seconds = write_geometric_stage(events, tmp_path / "geometric", finder)
    assert n == 2 and seconds > 0
    files = stage_event_files(tmp_path / "geometric", "test")
    assert len(files) == 2
    event = torch.load(files[0], weights_only=False)
    assert event.num_nodes == events[0].num_nodes  # the same hits, none removed
    from trackcore.candidates import TrackCandidates

    tracks = TrackCandidates(event.track_hit_id.numpy(), event.track_id.numpy())
    summary = evaluate_tracks(tracks, EventTruth.from_data(event), ParticlesOfInterest()).summary()
    assert summary["dm_efficiency"] > 0.5  # a helix search finds most pT > 1 GeV particles of a tiny event
    assert np.isin(event.track_hit_id.numpy(), event.hit_id.numpy()).all()


@pytest.mark.slow
def test_full_event_comparison_tested_on_another_source(tmp_path, monkeypatch, single_thread):
    """Train EC on tiny full events, test it on a folder of other events: the baseline is a row, the
    report states the input and both pT thresholds, and nothing was trained on the tested events."""
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    simulate_events("tiny", n_events=3, seed=7, out_dir=tmp_path / "other", progress=False)
    report = tmp_path / "report"
    args = ["compare", "--data", "tiny", "--test-data", str(tmp_path / "other"), "--benchmark", "full_pixel",
            "--families", "ec", "--quick", "--data-root", str(tmp_path / "cache"), "--out", str(report), "--",
            "--trainer.max_epochs=1", "--trainer.limit_train_batches=2", "--trainer.enable_progress_bar=false"]
    assert main(args) == 0
    text = (report / "report.md").read_text()
    rows = [line.split("|")[1].strip() for line in text.split("\n## ")[0].splitlines()
            if line.startswith("| ") and not line.startswith("| family")]
    assert rows == ["ec", "geometric"]
    assert "nothing removed with the truth" in text and "DM eff pT > 0.5" in text
    assert "DM eff, real events' labels" in text  # simulated full events are also scored as the real ones
    assert "The GNNs were not trained on these events" in text
    assert "Graph construction (`ml`, used by ec), test events:" in text
    metrics = json.loads((report / "metrics.json").read_text())
    assert set(metrics["families"]) == {"ec", "geometric"}
    assert 0 <= metrics["families"]["ec"]["summary"]["dm_efficiency_partial_truth"] <= 1
    graph = metrics["graph"]
    assert 0 < graph["efficiency"] <= 1 and graph["edges_per_hit"] > 1 and graph["n_hits"] > 100
    tested = report / "work" / "test_other" / "stages"
    assert sorted(p.name for p in (tested / "ml").iterdir() if p.is_dir()) == ["test"]  # only the test events
    assert len(list((tested / "geometric" / "test").glob("event*.pt"))) == 1
    assert (report / "work" / "runs" / "ec").is_dir() and not (report / "work" / "test_other" / "runs" / "ec").exists()


@pytest.mark.parametrize(("benchmark", "said"), [("full_pixel", "nothing removed with the truth"),
                                                 ("pt1_pixel", "USING THE TRUTH before any tracker ran")])
def test_report_states_what_the_trackers_read(tmp_path, benchmark, said):
    from trackcore.compare.geometric import geometric_finder, write_geometric_stage
    from trackcore.compare.report import _input_text, _processing
    from trackcore.metrics.stage_report import evaluate_stage

    events = [process_event(simulate_event("tiny", seed=0, event_id=1000), get_benchmark(benchmark))]
    write_geometric_stage(events, tmp_path / "geometric", geometric_finder())
    text = _input_text(*_processing(tmp_path / "geometric"), evaluate_stage(tmp_path / "geometric"))
    assert said in text and f"median {events[0].num_nodes:,} hits per test event" in text
    assert "volumes 7, 8, 9" in text


def test_bad_timing_record_and_bad_test_source_are_named(tmp_path):
    from trackcore.compare.pipeline import _read_timing

    stage = tmp_path / "stage"
    stage.mkdir()
    assert _read_timing(stage) == {}  # none recorded: unknown
    (stage / "timing.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"stage/timing.json: not the JSON a comparison writes"):
        _read_timing(stage)
    with pytest.raises(ValueError, match=r"--data '.*nowhere': not 'tiny', 'small', 'trackml', 'real'"):
        plan_comparison(["ec"], data=str(tmp_path / "nowhere"), work_dir=tmp_path, configs_from="small",
                        benchmark="full_pixel")
