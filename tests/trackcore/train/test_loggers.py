"""Loggers: CSV always; W&B offline with no account, left out when disabled."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from lightning.pytorch.loggers import CSVLogger

from trackcore.cli import main
from trackcore.train.loggers import default_loggers, wandb_online

CONFIG = Path(__file__).resolve().parents[3] / "trackcore" / "graph" / "configs" / "small_metric_learning.yaml"
HAS_WANDB = importlib.util.find_spec("wandb") is not None


@pytest.mark.parametrize(
    ("env", "online"),
    [({"WANDB_MODE": "offline", "WANDB_API_KEY": "x"}, False), ({"WANDB_MODE": "online"}, True),
     ({"WANDB_API_KEY": "x"}, True), ({}, False)],
)
def test_wandb_online_only_when_configured(env, online, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    for key in ("WANDB_MODE", "WANDB_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert wandb_online() is online


def test_disabled_wandb_leaves_the_csv_logger(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    loggers = default_loggers(save_dir=str(tmp_path))
    assert [type(logger) for logger in loggers] == [CSVLogger]


@pytest.mark.skipif(not HAS_WANDB, reason="wandb is not installed (pip install -e '.[wandb]')")
def test_offline_wandb_run_needs_no_account(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.chdir(tmp_path)
    assert main([
        "fit", "--config", str(CONFIG), "--trainer.max_steps=2", "--trainer.limit_val_batches=1",
        "--trainer.enable_progress_bar=false", "--run_name=wb", "--model.init_args.n_random=500",
        "--model.init_args.model.init_args.hidden_dim=16", "--model.init_args.model.init_args.n_layers=2",
        "--data.init_args.preset=tiny", "--data.init_args.benchmark=null", "--data.init_args.progress=false",
        f"--data.init_args.data_root={tmp_path / 'data'}",
    ]) == 0
    runs = list((tmp_path / "runs").rglob("offline-run-*"))
    assert runs, "no offline W&B run written"
    assert any(p.suffix == ".wandb" for p in runs[0].iterdir())  # the run's log, uploadable with `wandb sync`
    assert (tmp_path / "runs" / "wb" / "version_0" / "metrics.csv").is_file()  # and the CSV log beside it
