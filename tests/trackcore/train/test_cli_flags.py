"""The CLI's global torch flags: deterministic algorithms on, NaN-filling of new tensors off."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trackcore.train.cli import main as train_main

CONFIG = Path(__file__).resolve().parents[3] / "eggnet" / "configs" / "small.yaml"


@pytest.fixture
def restore_flags():
    saved = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.utils.deterministic.fill_uninitialized_memory)
    yield
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    torch.utils.deterministic.fill_uninitialized_memory = saved[2]


def test_deterministic_without_filling_new_tensors(restore_flags, tmp_path: Path) -> None:
    torch.use_deterministic_algorithms(False)
    torch.utils.deterministic.fill_uninitialized_memory = True
    train_main(["--config", str(CONFIG), "--trainer.logger=false", f"--data.init_args.data_root={tmp_path}"], run=False)
    assert torch.are_deterministic_algorithms_enabled()  # the config's `deterministic: warn`
    assert not torch.utils.deterministic.fill_uninitialized_memory  # the fill cost 15-25% of an EggNet forward
