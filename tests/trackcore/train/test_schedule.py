"""The learning-rate schedule follows the run: a short run ends annealed; a fixed length that disagrees is refused."""

from __future__ import annotations

import math
from functools import partial

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from trackcore.train import LossOutput, RunCosineAnnealingLR, ScheduleLengthError, TrackingModule, epochs_of_run
from trackcore.train.schedule import run_epochs

LR = 1e-2
ETA_MIN = 1e-4


class TinyModule(TrackingModule):
    """One weight fitted to 1.0 by SGD: a stand-in for any family's module."""

    def training_loss(self, batch: torch.Tensor) -> LossOutput:
        return LossOutput(((self.model.weight - 1.0) ** 2).sum())


class RecordLR(L.Callback):
    """The learning rate each training epoch ran at, and the one after the last epoch."""

    def __init__(self) -> None:
        self.epoch_lrs: list[float] = []

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.epoch_lrs.append(trainer.optimizers[0].param_groups[0]["lr"])


def _fit(scheduler, max_epochs: int) -> tuple[L.Trainer, RecordLR]:
    torch.manual_seed(0)
    module = TinyModule(model=torch.nn.Linear(1, 1, bias=False), optimizer=partial(torch.optim.SGD, lr=LR),
                        scheduler=scheduler)
    record = RecordLR()
    trainer = L.Trainer(max_epochs=max_epochs, limit_val_batches=0, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, callbacks=[record])
    trainer.fit(module, DataLoader([torch.zeros(1)] * 2, batch_size=1))
    return trainer, record


@pytest.mark.parametrize("max_epochs", [3, 5])
def test_a_short_run_ends_with_the_learning_rate_at_its_minimum(max_epochs: int, single_thread) -> None:
    trainer, record = _fit(partial(RunCosineAnnealingLR, eta_min=ETA_MIN), max_epochs)
    assert trainer.current_epoch == max_epochs
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(ETA_MIN, rel=1e-9)
    expected = [ETA_MIN + (LR - ETA_MIN) * (1 + math.cos(math.pi * t / max_epochs)) / 2 for t in range(max_epochs)]
    assert record.epoch_lrs == pytest.approx(expected, rel=1e-9)
    assert trainer.lr_scheduler_configs[0].scheduler.run_epochs == max_epochs


def test_a_fixed_cosine_longer_than_the_run_is_refused(single_thread) -> None:
    with pytest.raises(ScheduleLengthError, match=r"T_max=40 but the run has max_epochs=3.*RunCosineAnnealingLR"):
        _fit(partial(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=40), 3)
    trainer, _ = _fit(partial(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=3, eta_min=ETA_MIN), 3)
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(ETA_MIN, rel=1e-9)  # as long as the run: kept


def test_other_schedules_are_honoured_as_configured(single_thread) -> None:
    trainer, record = _fit(partial(torch.optim.lr_scheduler.StepLR, step_size=2, gamma=0.5), 3)
    assert record.epoch_lrs == pytest.approx([LR, LR, LR / 2])


def test_a_resumed_schedule_keeps_its_position_and_takes_this_runs_length() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    first = RunCosineAnnealingLR(torch.optim.SGD([param], lr=LR))
    first.bind_run(10)
    for _ in range(5):
        first.optimizer.step()
        first.step()
    resumed = RunCosineAnnealingLR(torch.optim.SGD([param], lr=LR))
    resumed.bind_run(20)  # the resumed run is longer
    resumed.load_state_dict(first.state_dict())
    assert resumed.last_epoch == 5 and resumed.run_epochs == 20
    resumed.optimizer.step()
    resumed.step()
    expected = LR * (1 + math.cos(math.pi * 6 / 20)) / 2
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-9)


def test_a_schedule_without_a_run_length_says_so() -> None:
    schedule = RunCosineAnnealingLR(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR))
    assert schedule.get_last_lr() == [LR]  # epoch 0 needs no length
    schedule.optimizer.step()
    with pytest.raises(ScheduleLengthError, match="does not know the run's length"):
        schedule.step()
    with pytest.raises(ScheduleLengthError, match=r"needs --trainer.max_epochs >= 1 \(got -1\)"):
        run_epochs(-1)  # a max_steps run has no epoch count
    with pytest.raises(ValueError, match="eta_min must be >= 0"):
        RunCosineAnnealingLR(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR), eta_min=-1.0)


def test_fractions_of_the_run_in_whole_epochs() -> None:
    assert [epochs_of_run(0.2, n) for n in (1, 3, 10, 40)] == [1, 1, 2, 8]
    assert epochs_of_run(0.15, 40) == 6 and epochs_of_run(0.0, 40) == 0 and epochs_of_run(1.0, 7) == 7
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        epochs_of_run(1.5, 10)
