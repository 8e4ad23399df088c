"""The run's checkpoints: the best by the monitored metric, and ``last.ckpt`` after every epoch."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint


class BestAndLastCheckpoint(ModelCheckpoint):
    """:class:`ModelCheckpoint` whose ``last.ckpt`` is rewritten at every save point, improved or not.

    Lightning >= 2.5 writes ``last.ckpt`` only when a top-k checkpoint was saved at the same
    step, so with a monitored metric (``val/dm_efficiency``) that stops improving, ``last.ckpt``
    stays at the best epoch. Resuming a stopped run from it (``--ckpt_path .../last.ckpt``)
    would then silently drop every later epoch: an OC run of 30 epochs left ``last.ckpt`` at
    epoch 7. Here ``last.ckpt`` is always the latest state, as its name says.
    """

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        if self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_skipped(trainer)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if not self._should_save_on_train_epoch_end(trainer):
            self._save_last_if_skipped(trainer)

    def _save_last_if_skipped(self, trainer: L.Trainer) -> None:
        # skipped when nothing is to be saved (sanity check, fast_dev_run, not fitting) or when
        # the parent already saved at this step (then last.ckpt is current)
        if self.save_last and not self._should_skip_saving_checkpoint(trainer):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
