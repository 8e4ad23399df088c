"""Schedules that follow the run: their length is the trainer's ``max_epochs``, not a number in the config.

A cosine learning-rate schedule configured for ``T_max: 40`` epochs and a run cut to
``--trainer.max_epochs 3`` (``trackcore compare --quick``) ends at 99% of its starting
learning rate: a short run never anneals, and its numbers mislead. The rule here:

- :class:`RunCosineAnnealingLR` is the cosine of :class:`torch.optim.lr_scheduler.CosineAnnealingLR`
  with ``T_max`` = the trainer's ``max_epochs``, bound when the module configures its optimizers,
  so the learning rate reaches ``eta_min`` after the run's last epoch, whatever ``max_epochs``;
- a torch ``CosineAnnealingLR`` whose ``T_max`` differs from ``max_epochs`` is refused
  (:class:`ScheduleLengthError`, one line from the CLI): its length cannot follow the run;
- other schedules (``StepLR``, ``ExponentialLR``, ...) are honoured as configured;
- HGNN's loss-weight schedule is likewise a fraction of the run (``schedule_fraction``,
  :func:`epochs_of_run`).

A resumed run follows its own ``max_epochs``: resuming a 10-epoch run with ``--trainer.max_epochs 20``
stretches the rest of the cosine to end at epoch 20.
"""

from __future__ import annotations

import math
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import CosineAnnealingLR, LRScheduler


class ScheduleLengthError(ValueError):
    """A schedule whose length cannot follow the run (``trackcore fit`` reports it in one line)."""


class RunCosineAnnealingLR(LRScheduler):
    """Cosine annealing from each group's learning rate to ``eta_min`` over the whole run.

    ``lr_t = eta_min + (lr_0 - eta_min) (1 + cos(pi t / T)) / 2`` at epoch ``t`` (stepped once per
    epoch), with ``T`` the run's ``max_epochs``, given by :meth:`bind_run` (the
    :class:`~trackcore.train.TrackingModule` does it in ``configure_optimizers``). In YAML::

        scheduler:
          class_path: trackcore.train.RunCosineAnnealingLR

    Args:
        optimizer: the optimizer whose learning rates are annealed.
        eta_min: the learning rate reached at the end of the run.
        last_epoch: the index of the last epoch (-1: a new schedule).
    """

    def __init__(self, optimizer: Optimizer, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if eta_min < 0:
            raise ValueError(f"eta_min must be >= 0 (got {eta_min})")
        self.eta_min = eta_min
        self.run_epochs: int | None = None
        super().__init__(optimizer, last_epoch)

    def bind_run(self, run_epochs: int) -> None:
        """Set ``T``, the run's number of epochs."""
        if isinstance(run_epochs, bool) or not isinstance(run_epochs, int) or run_epochs < 1:
            raise ScheduleLengthError(f"RunCosineAnnealingLR needs a run of >= 1 epochs (got {run_epochs!r})")
        self.run_epochs = run_epochs

    def get_lr(self) -> list[float]:
        if self.last_epoch <= 0:
            return list(self.base_lrs)
        if self.run_epochs is None:
            raise ScheduleLengthError("RunCosineAnnealingLR does not know the run's length: build it in a "
                                      "TrackingModule's configure_optimizers under a Trainer with max_epochs")
        progress = min(self.last_epoch / self.run_epochs, 1.0)
        return [self.eta_min + (base - self.eta_min) * (1.0 + math.cos(math.pi * progress)) / 2.0
                for base in self.base_lrs]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the schedule's position; the length stays this run's (see the module docstring)."""
        run_epochs = self.run_epochs
        super().load_state_dict(state_dict)
        if run_epochs is not None:
            self.run_epochs = run_epochs


def run_epochs(max_epochs: int | None) -> int:
    """The run's number of epochs from the trainer's ``max_epochs``.

    Raises:
        ScheduleLengthError: the run has no epoch limit (``max_epochs`` -1 or None, e.g. a
            ``max_steps`` run): a schedule in fractions of the run has nothing to follow.
    """
    if max_epochs is None or max_epochs < 1:
        raise ScheduleLengthError(f"a schedule that follows the run needs --trainer.max_epochs >= 1 "
                                  f"(got {max_epochs})")
    return int(max_epochs)


def epochs_of_run(fraction: float, max_epochs: int) -> int:
    """``fraction`` of a run of ``max_epochs`` epochs, in whole epochs: at least 1 when ``fraction > 0``."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"a fraction of the run must be in [0, 1] (got {fraction})")
    return 0 if fraction == 0 else max(1, round(fraction * run_epochs(max_epochs)))


def fit_to_run(scheduler: Any, max_epochs: int | None) -> None:
    """Give ``scheduler`` the run's length, or refuse one whose fixed length disagrees with it.

    ``max_epochs`` None: no trainer (a module driven by hand); nothing is bound then.

    Raises:
        ScheduleLengthError: a torch ``CosineAnnealingLR`` with ``T_max != max_epochs``, or a
            :class:`RunCosineAnnealingLR` in a run without an epoch limit.
    """
    if max_epochs is None:
        return
    if isinstance(scheduler, RunCosineAnnealingLR):
        scheduler.bind_run(run_epochs(max_epochs))
    elif isinstance(scheduler, CosineAnnealingLR) and scheduler.T_max != max_epochs:
        raise ScheduleLengthError(
            f"scheduler CosineAnnealingLR has T_max={scheduler.T_max} but the run has max_epochs={max_epochs}, so "
            "its learning rate would not end annealed: use class_path trackcore.train.RunCosineAnnealingLR "
            "(T_max = max_epochs) instead")
