"""``trackcore bench --quick``: every family and every stage timed, as JSON and Markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from trackcore.bench import FAMILIES, STAGES
from trackcore.cli import main


@pytest.mark.slow
def test_quick_bench_json_has_every_stage_and_family(tmp_path, monkeypatch, single_thread):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench_tiny.json").read_text())
    assert set(result["families"]) == set(FAMILIES) and result["n_events"] == 3
    assert result["random_weights"] == sorted(FAMILIES) and result["machine"]["cpu_count"] >= 1
    assert result["machine"]["keeps_freed_memory"] is True  # `trackcore` set glibc's thresholds (Linux CI)
    for family, entry in result["families"].items():
        assert set(entry["stages"]) == set(STAGES)
        for stage in STAGES:
            timing = entry["stages"][stage]
            if family == "eggnet" and stage == "graph_construction":
                assert timing is None  # EggNet builds its kNN graphs inside the model
                continue
            assert timing["n"] == 3 and 0 < timing["min_s"] <= timing["median_s"] <= timing["max_s"]
        assert entry["total"]["median_s"] > 0 and entry["peak_rss_gb"] > 0.05
    table = (tmp_path / "bench_tiny.md").read_text()
    assert all(f"| {family} |" in table for family in FAMILIES)


@pytest.mark.parametrize(
    ("ckpt", "message"),
    [("runs/x.ckpt", "--ckpt takes STEP=PATH"), ("gnn=runs/x.ckpt", r"steps \['gnn'\]"),
     ("ml=runs/missing.ckpt", "runs/missing.ckpt: checkpoint not found")],
)
def test_bad_checkpoint_arguments_are_named(tmp_path, monkeypatch, capsys, ckpt, message):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--quick", "--families", "ec", "--ckpt", ckpt, "--out", str(tmp_path)]) == 2
    assert re.search(message, capsys.readouterr().err)


@pytest.mark.parametrize(
    ("config", "message"),
    [("ec/configs/small_edge_classifier.yaml", "--config takes STEP=PATH"),
     ("gnn=ec/configs/small_edge_classifier.yaml", r"configs for steps \['gnn'\]"),
     ("ec=runs/missing.yaml", "runs/missing.yaml: config not found")],
)
def test_bad_config_arguments_are_named(tmp_path, monkeypatch, capsys, config, message):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    assert main(["bench", "--quick", "--families", "ec", "--config", config, "--out", str(tmp_path)]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_steps_config_replaces_the_kinds(tmp_path):
    from trackcore.bench import load_modules

    root = Path(__file__).resolve().parents[2]
    text = (root / "ec/configs/small_edge_classifier.yaml").read_text()
    assert "n_iterations: 8" in text
    (tmp_path / "ec2.yaml").write_text(text.replace("n_iterations: 8", "n_iterations: 2"))
    default = load_modules(["ec"], kind="small")
    other = load_modules(["ec"], kind="small", configs={"ec": str(tmp_path / "ec2.yaml")})
    assert len(default["ec"].model.gnn.edge_networks) == 8 and len(other["ec"].model.gnn.edge_networks) == 2
    assert type(other["ml"]) is type(default["ml"])  # the other steps keep the kind's configs


def test_power_law_fit_recovers_exponent_and_prefactor():
    from trackcore.bench.scaling import fit_power_law

    hits = [100, 1_000, 10_000, 100_000]
    fit = fit_power_law(hits, [2e-4 * h**1.5 for h in hits])
    assert fit["exponent"] == pytest.approx(1.5) and fit["prefactor_s"] == pytest.approx(2e-4)
    assert fit["r2"] == pytest.approx(1.0) and fit["n"] == 4
    noisy = fit_power_law([10, 10, 100, 100], [1.0, 2.0, 10.0, 20.0])  # pinned: slope of log-means
    assert noisy["exponent"] == pytest.approx(1.0) and 0 < noisy["r2"] < 1
    assert fit_power_law([50, 50], [0.1, 0.2]) is None  # one hit count: no slope
    with pytest.raises(ValueError, match="must be finite and > 0"):
        fit_power_law([10, 100], [0.0, 1.0])


def test_peak_memory_resets_between_pileup_values():
    import numpy as np

    from trackcore.allocator import keep_freed_memory
    from trackcore.bench.scaling import high_water_gb, reset_peak_memory

    keep_freed_memory()  # as `trackcore bench` runs: freed memory is kept, and given back by the reset
    if not reset_peak_memory():
        pytest.skip("this kernel does not let a process reset its peak resident memory (/proc/self/clear_refs)")
    block = np.ones(40_000_000)  # 0.32 GB resident
    high = high_water_gb()
    del block
    assert reset_peak_memory()
    assert high_water_gb() < high - 0.25


@pytest.mark.slow
def test_quick_scaling_has_every_family_pileup_and_fit(tmp_path, monkeypatch, single_thread):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--quick", "--scaling", "5,20", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "scaling_tiny.json").read_text())
    assert result["mus"] == [5.0, 20.0] and set(result["families"]) == set(FAMILIES)
    for entry in result["families"].values():
        assert [row["mu"] for row in entry["per_mu"]] == [5.0, 20.0] and len(entry["points"]) == 4
        assert entry["per_mu"][0]["hits"] < entry["per_mu"][1]["hits"]  # more pile-up, more hits
        assert all(row["peak_memory_gb"] > 0.05 for row in entry["per_mu"])
        assert entry["fits"]["total"]["n"] == 4 and set(entry["fits"]) == {"total", *STAGES}
    assert (tmp_path / "scaling_tiny.png").stat().st_size > 10_000
    assert "Fitted exponent" in (tmp_path / "scaling_tiny.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--scaling", "10,x"], "comma-separated pile-up values"), (["--scaling", "0,10"], "values > 0"),
     (["--scaling", "10,20", "--data", "/some/dir"], "--scaling simulates its events")],
)
def test_bad_scaling_arguments_are_named(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--families", "ec", *args, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


def test_acts_configs_give_the_models_compare_trains_on_the_acts_presets(monkeypatch):
    from trackcore.bench.runner import load_modules

    monkeypatch.setenv("WANDB_MODE", "disabled")
    ec = load_modules(["ec"], kind="acts")["ec"]
    assert len(ec.model.gnn.node_networks) == 4  # the 4-iteration interaction network
    assert (ec.refine.fill_holes, ec.refine.max_holes, ec.refine.min_layers) == (True, 0, 3)
    assert ec.refine.crowd_d0 == 0.2
    plain = load_modules(["ec"])["ec"]
    assert len(plain.model.gnn.node_networks) == 8 and plain.refine.max_holes is None
    # --refine settings reach every family's refinement over its config's, and not metric learning
    modules = load_modules(["ec"], kind="acts", refine=["max_holes=2", "hole_volumes=[7,8,9,12]"])
    assert (modules["ec"].refine.max_holes, modules["ec"].refine.hole_volumes) == (2, (7, 8, 9, 12))
    assert modules["ec"].refine.fill_holes and modules["ml"].refine is None
    with pytest.raises(ValueError, match="no such refinement setting"):
        load_modules(["ec"], refine=["max_hole=2"])


def test_folder_suffixes_select_hits_and_bad_ones_are_named(tmp_path):
    from dataclasses import replace

    from trackcore.bench.runner import bench_events
    from trackcore.data.simulation.presets import get_preset
    from trackcore.data.simulation.simulate import simulate_event
    from trackcore.data.trackml_io import write_event

    full = replace(get_preset("tiny"), volumes=(7, 8, 9, 12, 13, 14, 16, 17, 18))
    write_event(simulate_event(full, seed=0, event_id=1000), tmp_path)
    every, = bench_events(f"{tmp_path}:all", 1)
    pixel, = bench_events(str(tmp_path), 1)
    assert set(pixel.volume_id.tolist()) <= {7, 8, 9} < set(every.volume_id.tolist())
    assert every.num_nodes > pixel.num_nodes
    with pytest.raises(ValueError, match="no suffix, ':pixel', ':all' or ':full'"):
        bench_events(f"{tmp_path}:strips", 1)
    both, = bench_events(f"{tmp_path}:full", 1)  # every hit, and its pixel hits apart
    assert set(both.pixel.volume_id.tolist()) == {7, 8, 9} and both.num_nodes == both.full.num_nodes
    assert both.full.num_nodes > every.num_nodes and both.pixel.num_nodes < both.full.num_nodes


def test_full_events_time_the_following_into_the_strips(tmp_path, monkeypatch, capsys, single_thread):
    from dataclasses import replace

    from trackcore.data.simulation.presets import get_preset
    from trackcore.data.simulation.simulate import simulate_event
    from trackcore.data.trackml_io import write_event

    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    full = replace(get_preset("tiny"), volumes=(7, 8, 9, 12, 13, 14, 16, 17, 18))
    for i in range(2):
        write_event(simulate_event(full, seed=i, event_id=1000 + i), tmp_path / "events")
    args = ["bench", "--data", f"{tmp_path / 'events'}:full", "--families", "ec", "--events", "1", "--out", "b"]
    assert main([*args, "--follow", "max_holes=1", "--follow", "radii=[500, 1100]"]) == 0
    result = json.loads((tmp_path / "b" / "bench_events_full.json").read_text())
    stages = result["families"]["ec"]["stages"]
    assert result["follow"] == ["max_holes=1", "radii=[500, 1100]"] and stages["follow"]["n"] == 1
    assert "| building | follow | metrics |" in (tmp_path / "b" / "bench_events_full.md").read_text()
    capsys.readouterr()
    assert main([*args, "--follow", "max_hole=1"]) == 2
    assert "no such strip-following setting" in capsys.readouterr().err
    assert main(["bench", "--data", str(tmp_path / "events"), "--follow", "max_holes=1", "--out", "b"]) == 2
    assert "has no strips to follow into" in capsys.readouterr().err


def test_real_and_acts_configs_exclude_each_other(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as err:
        main(["bench", "--quick", "--real-configs", "--acts-configs", "--out", str(tmp_path)])
    assert err.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_spread_has_the_median_quartiles_and_mean():
    from trackcore.bench.runner import spread

    s = spread([4.0, 1.0, 3.0, 2.0, 10.0])
    assert s["median_s"] == 3.0 and s["min_s"] == 1.0 and s["max_s"] == 10.0 and s["n"] == 5
    assert s["mean_s"] == pytest.approx(4.0)  # what the ACTS sequencer reports per event: the outlier counts
    assert spread([2.5]) == {"median_s": 2.5, "q1_s": 2.5, "q3_s": 2.5, "min_s": 2.5, "max_s": 2.5, "mean_s": 2.5,
                             "n": 1}
