"""Every YAML config under experiments/ runs one training step from the CLI (on the tiny preset)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trackcore.cli import main

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "experiments" / "configs").rglob("*.yaml"))


def test_configs_exist():
    assert CONFIGS, "no YAML configs under experiments/configs"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_config_runs_one_step(config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)  # runs/ and data_cache/ land here
    # The same config on the tiny simulated preset: real-data configs swap their folder for it.
    code = main([
        "fit", "--config", str(config), "--trainer.fast_dev_run=1", "--trainer.enable_progress_bar=false",
        "--data.init_args.preset=tiny", "--data.init_args.input_dir=null", "--data.init_args.benchmark=null",
        "--data.init_args.n_train=null", "--data.init_args.n_val=null", "--data.init_args.n_test=null",
        f"--data.init_args.data_root={tmp_path / 'data'}", "--data.init_args.progress=false",
    ])
    assert code == 0
