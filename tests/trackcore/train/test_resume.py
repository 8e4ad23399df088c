"""Resuming from a checkpoint continues the same run: same step count, same loss trajectory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from trackcore.cli import main
from trackcore.train.cli import main as train_main

CONFIG = Path(__file__).resolve().parents[3] / "trackcore" / "graph" / "configs" / "small_metric_learning.yaml"


def _fit(name: str, epochs: int, data_root: Path, *extra: str) -> Path:
    main([
        "fit", "--config", str(CONFIG), f"--run_name={name}", f"--trainer.max_epochs={epochs}",
        "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
        "--model.init_args.model.init_args.hidden_dim=32", "--model.init_args.model.init_args.n_layers=2",
        "--model.init_args.n_random=2000",
        "--data.init_args.preset=tiny", f"--data.init_args.data_root={data_root}", "--data.init_args.progress=false",
        *extra,
    ])
    return Path("runs") / name


@pytest.mark.slow
def test_resume_continues_the_same_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    straight = _fit("straight", 3, data)
    first = _fit("resumed", 2, data)
    last = first / "version_0" / "checkpoints" / "last.ckpt"
    assert last.is_file()
    # last.ckpt is the latest epoch even when the monitored metric stopped improving (the loss
    # falls, so "max" keeps epoch 0 as the best; Lightning >= 2.5 alone would leave last.ckpt there)
    stale = _fit("stale", 2, data, "--checkpoint.mode=max") / "version_0" / "checkpoints"
    assert sorted(p.name for p in stale.iterdir()) == ["epoch=0-step=4.ckpt", "last.ckpt"]
    assert torch.load(stale / "last.ckpt", weights_only=False)["epoch"] == 1
    # A CLI checkpoint rebuilds its module with no arguments (the YAML config is in its hyper-parameters).
    from trackcore.graph.metric_learning import EmbeddingNet, MetricLearning

    module = MetricLearning.load_from_checkpoint(last)
    assert isinstance(module.model, EmbeddingNet) and module.model.mlp is not None
    # Settings given with --ckpt_path win over the hyper-parameters stored in the checkpoint.
    cli = train_main(["validate", "--config", str(CONFIG), f"--ckpt_path={last}", "--model.init_args.r_infer=0.37",
                "--model.init_args.model.init_args.hidden_dim=32", "--model.init_args.model.init_args.n_layers=2",
                "--data.init_args.preset=tiny", f"--data.init_args.data_root={data}", "--run_name=override",
                "--trainer.enable_progress_bar=false", "--data.init_args.progress=false"])
    assert cli.model.r_infer == 0.37
    assert (Path("runs") / "override" / "version_0" / "config.yaml").is_file()  # the config beside the logs
    train_main(["test", "--config", str(CONFIG), f"--ckpt_path={last}", "--trainer.logger=false",
                "--model.init_args.model.init_args.hidden_dim=32", "--model.init_args.model.init_args.n_layers=2",
                "--data.init_args.preset=tiny", f"--data.init_args.data_root={data}",
                "--trainer.enable_progress_bar=false", "--data.init_args.progress=false"])
    assert not Path("config.yaml").exists()  # no logger: no stray config in the working folder
    _fit("resumed", 3, data, f"--ckpt_path={last}")
    # the resumed epoch saves where the run saved: one best over all its epochs, last.ckpt the latest
    kept = sorted(p.name for p in (first / "version_0" / "checkpoints").iterdir())
    assert len(kept) == 2 and "last.ckpt" in kept, kept
    assert torch.load(last, weights_only=False)["epoch"] == 2
    assert not (first / "version_1" / "checkpoints").exists()

    def epochs(run: Path, version: int) -> pd.DataFrame:
        m = pd.read_csv(run / f"version_{version}" / "metrics.csv")
        return m.dropna(subset=["train/loss_epoch"]).set_index("epoch")[["step", "train/loss_epoch"]]

    ref = epochs(straight, 0)
    resumed = pd.concat([epochs(first, 0), epochs(first, 1)])
    assert list(resumed.index) == [0, 1, 2] and list(ref.index) == [0, 1, 2]
    assert resumed["step"].tolist() == ref["step"].tolist()  # the same global step count
    # the same trajectory (CPU, seeded; tiny float noise from the restored RNG/optimizer state allowed)
    assert resumed["train/loss_epoch"].to_numpy() == pytest.approx(ref["train/loss_epoch"].to_numpy(), rel=1e-3)
