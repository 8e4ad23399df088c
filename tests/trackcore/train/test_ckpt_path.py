"""``trackcore fit/predict --ckpt_path`` with a bad file: one line naming it and the problem, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trackcore.cli import main
from trackcore.train.cli import checkpoint_problem

CONFIG = Path(__file__).resolve().parents[3] / "trackcore" / "graph" / "configs" / "small_metric_learning.yaml"


def _error_line(capsys: pytest.CaptureFixture[str], command: str, ckpt: Path) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--config", str(CONFIG), f"--ckpt_path={ckpt}", "--trainer.logger=false"])
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines  # one line, no traceback
    return lines[0]


def _checkpoint(path: Path) -> Path:
    torch.save({"state_dict": {"model.weight": torch.zeros(64, 64)}, "epoch": 3}, path)
    return path


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_a_missing_checkpoint_is_named(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "runs" / "last.ckpt"
    assert _error_line(capsys, command, missing) == f"error: --ckpt_path {missing}: no such file"


@pytest.mark.parametrize("command", ["fit", "predict"])
def test_a_truncated_checkpoint_is_named(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = _checkpoint(tmp_path / "last.ckpt")
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])  # a copy cut short
    line = _error_line(capsys, command, ckpt)
    assert line.startswith(f"error: --ckpt_path {ckpt}: not a readable checkpoint (truncated")


def test_what_is_wrong_with_a_checkpoint_file(tmp_path: Path) -> None:
    assert checkpoint_problem(_checkpoint(tmp_path / "good.ckpt")) is None
    assert checkpoint_problem("last") is None  # Lightning's own keywords are Lightning's to resolve
    assert checkpoint_problem(tmp_path) == "not a file"
    (tmp_path / "empty.ckpt").write_bytes(b"")
    assert checkpoint_problem(tmp_path / "empty.ckpt").startswith("not a readable checkpoint")
    (tmp_path / "notes.ckpt").write_text("epoch 3 was the best\n")
    assert checkpoint_problem(tmp_path / "notes.ckpt").startswith("not a readable checkpoint")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "tensors.pt")
    assert checkpoint_problem(tmp_path / "tensors.pt") == "not a Lightning checkpoint (no 'state_dict' in it)"
