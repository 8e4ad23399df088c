"""``trackcore fit --init_weights CKPT``: a fresh run that starts from another run's weights."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn

from trackcore.cli import main
from trackcore.train.init_weights import InitWeights

CONFIG = Path(__file__).resolve().parents[3] / "trackcore" / "graph" / "configs" / "small_metric_learning.yaml"


class Tiny(L.LightningModule):
    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.model = nn.Linear(width, 2)


def test_the_weights_are_loaded_at_fit_only_and_a_foreign_model_is_named(tmp_path: Path) -> None:
    source = Tiny()
    ckpt = tmp_path / "source.ckpt"
    torch.save({"state_dict": source.state_dict(), "epoch": 11}, ckpt)
    target = Tiny()
    assert not torch.equal(target.model.weight, source.model.weight)
    InitWeights(ckpt).setup(None, target, "predict")  # not a training: untouched
    assert not torch.equal(target.model.weight, source.model.weight)
    InitWeights(ckpt).setup(None, target, "fit")
    assert torch.equal(target.model.weight, source.model.weight) and torch.equal(target.model.bias, source.model.bias)
    with pytest.raises(ValueError, match=r"source\.ckpt: not this model's weights \(other shape \['model.weight'\]\)"):
        InitWeights(ckpt).setup(None, Tiny(width=4), "fit")


def test_a_missing_init_weights_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "runs" / "best.ckpt"
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(CONFIG), f"--init_weights={missing}", "--trainer.logger=false"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: --init_weights {missing}: no such file"]
