"""A two-process DDP run (gloo on CPU) completes, its losses match a single-process run within noise,
and its validation metrics are exactly the single-process ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

CONFIG = Path(__file__).resolve().parents[3] / "trackcore" / "graph" / "configs" / "small_metric_learning.yaml"


def _fit(name: str, tmp: Path, *extra: str, command: str = "fit") -> pd.DataFrame:
    cmd = [
        sys.executable, "-m", "trackcore.cli", command, "--config", str(CONFIG), f"--run_name={name}",
        "--trainer.max_epochs=2", "--trainer.accelerator=cpu", "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false", "--model.init_args.model.init_args.hidden_dim=32",
        "--model.init_args.model.init_args.n_layers=2", "--model.init_args.n_random=2000",
        "--data.init_args.preset=tiny", f"--data.init_args.data_root={tmp / 'data'}", "--data.init_args.progress=false",
        *extra,
    ]
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = pd.read_csv(tmp / "runs" / name / "version_0" / "metrics.csv").dropna(subset=["val/loss"])
    return metrics if command == "validate" else metrics.set_index("epoch")


@pytest.mark.slow
def test_two_process_ddp_matches_single_process(tmp_path: Path) -> None:
    single = _fit("single", tmp_path, "--trainer.devices=1")
    ddp = _fit("ddp", tmp_path, "--trainer.devices=2", "--trainer.strategy=ddp")
    assert list(ddp.index) == list(single.index) == [0, 1]
    # two ranks split the training events: half the optimizer steps per epoch (rounded up)
    assert ddp["step"].iloc[-1] + 1 == -(-(single["step"].iloc[-1] + 1) // 2)
    # Each rank sees half of the (tiny) training events per epoch, so losses differ by sampling
    # noise only; the validation edge efficiency of the constructed graph agrees closely.
    assert ddp["val/loss"].iloc[-1] == pytest.approx(single["val/loss"].iloc[-1], rel=0.5)
    assert ddp["val/edge_efficiency"].iloc[-1] == pytest.approx(single["val/edge_efficiency"].iloc[-1], abs=0.15)

    # Validation metrics are pooled over all ranks' events (counts summed, padded repeats counted
    # once), so validating one checkpoint on two processes gives exactly the single-process values.
    ckpt = tmp_path / "runs" / "single" / "version_0" / "checkpoints" / "last.ckpt"
    one = _fit("val1", tmp_path, "--trainer.devices=1", f"--ckpt_path={ckpt}", command="validate")
    two = _fit("val2", tmp_path, "--trainer.devices=2", "--trainer.strategy=ddp", f"--ckpt_path={ckpt}",
               command="validate")
    for key in ("val/edge_efficiency", "val/edge_purity", "val/edges_per_event"):
        assert two[key].iloc[-1] == pytest.approx(one[key].iloc[-1], rel=1e-9), key
