"""Every shipped YAML config (the graph's and each family's) runs one training step from the CLI (tiny preset).

Configs that read a previous stage's outputs (StageDataModule) get them from a one-batch
``predict`` of the metric-learning config on the tiny preset, and those that read an
edge-scoring stage (``.../tracks``, e.g. OC on the EC-filtered graph) from a one-batch
``predict`` of the edge classifier on that.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trackcore.cli import main
from trackcore.compare.pipeline import all_steps
from trackcore.train.writer import read_stage_settings

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIRS = sorted({step.configs for step in all_steps().values()})
CONFIGS = sorted(p for folder in CONFIG_DIRS for p in folder.glob("*.yaml"))
GRAPH = all_steps()["ml"].config_path("small")
EDGE_CLASSIFIER = all_steps()["ec"].config_path("small")
TINY = [
    "--data.init_args.preset=tiny", "--data.init_args.input_dir=null", "--data.init_args.benchmark=null",
    "--data.init_args.n_train=null", "--data.init_args.n_val=null", "--data.init_args.n_test=null",
    "--data.init_args.progress=false",
]
ONE_STEP = ["--trainer.fast_dev_run=1", "--trainer.enable_progress_bar=false"]


def _data(config: Path) -> dict:
    return yaml.safe_load(config.read_text())["data"]


def test_configs_exist():
    assert len(CONFIG_DIRS) == 5 and len(CONFIGS) >= 15, CONFIG_DIRS  # the graph's and the four families' configs


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)  # runs/ and data_cache/ land here
    return tmp_path


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_config_runs_one_step(config: Path, isolated: Path) -> None:
    data = [f"--data.init_args.data_root={isolated / 'data'}"]
    if _data(config)["class_path"].endswith("StageDataModule"):
        stage = isolated / "graph"
        main(["predict", "--config", str(GRAPH), *ONE_STEP, *TINY,
              *data, f"--predict_dir={stage}"])
        assert sorted(p.name for p in stage.iterdir()) == ["stage.json", "test", "train", "val"]
        if _data(config)["init_args"]["input_dir"].rstrip("/").endswith("/tracks"):
            scored = isolated / "tracks"
            main(["predict", "--config", str(EDGE_CLASSIFIER), *ONE_STEP,
                  f"--data.init_args.input_dir={stage}", f"--predict_dir={scored}"])
            record = read_stage_settings(scored)  # what made the scored graph, for the steps that read it
            assert record["module"] == "ec.module.EdgeClassifier" and record["edge_cut"] == 0.5
            assert record["builder"] == {"class_path": "trackcore.builders.graph_builders.EdgeComponents",
                                         "settings": {"cut": 0.5, "walk": True, "walk_min": 0.5, "walk_max": 0.8,
                                                      "min_hits": 3}}
            stage = scored
        args = [f"--data.init_args.input_dir={stage}"]
    else:
        args = [*TINY, *data]
    assert main(["fit", "--config", str(config), *ONE_STEP, *args]) == 0


def _module_class(config: Path) -> type:
    import importlib

    module_path, _, name = yaml.safe_load(config.read_text())["model"]["class_path"].rpartition(".")
    return getattr(importlib.import_module(module_path), name)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_best_checkpoint_is_chosen_by_the_stages_figure_of_merit(config: Path) -> None:
    """A stage that builds tracks keeps the epoch of the best DM efficiency - DM fake rate; others
    the smallest validation loss (the CLI's default when the config has no checkpoint block)."""
    from trackcore.train.checkpoint import selection_metric

    block = yaml.safe_load(config.read_text()).get("checkpoint") or {}
    chosen = (block.get("monitor", "val/loss"), block.get("mode", "min"))
    assert chosen == selection_metric(_module_class(config).builds_tracks())


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_schedule_is_fixed_in_epochs(config: Path) -> None:
    """Schedules follow --trainer.max_epochs: no T_max, no HGNN schedule_epochs fixed in a config."""
    init_args = yaml.safe_load(config.read_text())["model"]["init_args"]
    scheduler = init_args.get("scheduler")
    if scheduler is not None:
        assert scheduler["class_path"] == "trackcore.train.RunCosineAnnealingLR"
        assert "T_max" not in (scheduler.get("init_args") or {})
    assert init_args.get("schedule_epochs") is None
