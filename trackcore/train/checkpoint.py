"""The run's checkpoints: the best by the monitored metric, and ``last.ckpt`` after every epoch.

Which epoch is the best (:func:`selection_metric`, the ``checkpoint:`` block of every config):

- a stage that builds tracks in validation (EC's edge classifier, OC, EggNet, HGNN) keeps the epoch
  of the largest ``val/fom`` = DM efficiency - DM fake rate on the validation events, the objective
  by which the validation-time scans choose their building settings. DM efficiency alone let HGNN
  keep an early epoch over a later one of about the same efficiency and far fewer fakes;
- a stage that builds no tracks (EC's metric learning and filter) keeps the epoch of the smallest
  ``val/loss``: its validation has no track to count, and its edge efficiency and purity trade
  against each other with the graph size, so neither alone ranks epochs.
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

FIGURE_OF_MERIT = "val/fom"


def selection_metric(builds_tracks: bool) -> tuple[str, str]:
    """``(monitor, mode)`` of the best checkpoint of a stage that builds tracks in validation, or not.

    ``builds_tracks`` is :meth:`TrackingModule.builds_tracks() <trackcore.train.TrackingModule.builds_tracks>`.
    """
    return (FIGURE_OF_MERIT, "max") if builds_tracks else ("val/loss", "min")


class BestAndLastCheckpoint(ModelCheckpoint):
    """:class:`ModelCheckpoint` whose ``last.ckpt`` is rewritten at every save point, improved or not.

    Lightning >= 2.5 writes ``last.ckpt`` only when a top-k checkpoint was saved at the same
    step, so with a monitored metric (``val/fom``) that stops improving, ``last.ckpt``
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
