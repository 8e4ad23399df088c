"""``trackcore fit | validate | test | predict``: LightningCLI over any task module and datamodule.

    trackcore fit --config experiments/configs/ec/small_metric_learning.yaml
    trackcore fit --config ... --ckpt_path runs/.../checkpoints/last.ckpt     # resume
    trackcore predict --config ... --ckpt_path best.ckpt --predict_dir stage_out/

The model, data, optimizer and scheduler are ``class_path``/``init_args`` blocks in YAML; the
resolved config is saved as ``config.yaml`` beside every run's logs (none without a logger). Every run logs to CSV
(and to W&B when installed, offline unless configured) and keeps the last and best
checkpoints (``checkpoint:`` block of the config).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback

from trackcore.train.checkpoint import BestAndLastCheckpoint
from trackcore.train.loggers import default_loggers
from trackcore.train.module import TrackingModule
from trackcore.train.writer import StageWriter


class SaveConfigBesideLogs(SaveConfigCallback):
    """Save the resolved ``config.yaml`` in the run's log folder, and nowhere when there is none.

    Lightning's callback falls back to the working directory when the trainer has no logger
    (``--trainer.logger=false``, usual for a quick ``test``), leaving a stray ``config.yaml``
    there that each later run overwrites.
    """

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if not trainer.loggers:
            return
        super().setup(trainer, pl_module, stage)


class TrackCLI(LightningCLI):
    """LightningCLI with any :class:`TrackingModule` subclass and any LightningDataModule."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(BestAndLastCheckpoint, "checkpoint")
        parser.set_defaults({
            "checkpoint.save_last": True,
            "checkpoint.save_top_k": 1,
            "checkpoint.monitor": "val/loss",
            "checkpoint.mode": "min",
        })
        parser.add_argument("--run_name", type=str, default="trackcore", help="folder of this run's logs under runs/")
        parser.add_argument(
            "--predict_dir", type=str | None, default=None,
            help="predict: write every event's outputs to this folder (train/val/test subfolders)",
        )

    def _parse_ckpt_path(self) -> None:
        """Keep the given config as it is when ``--ckpt_path`` is given.

        LightningCLI would overwrite the model's config with the hyper-parameters stored in the
        checkpoint, so inference settings changed in the YAML or on the command line (a score
        cut, a radius, the track builder) would be silently ignored by ``validate``, ``test``
        and ``predict``. Here the config is the truth; the checkpoint gives the weights (and a
        config whose model does not match them fails loudly on the state dict).
        """

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Any]) -> L.Trainer:
        if config.get("logger") in (None, True):
            config["logger"] = default_loggers(name=self._get(self.config, "run_name") or "trackcore")
        predict_dir = self._get(self.config, "predict_dir")
        if predict_dir:
            callbacks = [*callbacks, StageWriter(predict_dir)]
        trainer = super()._instantiate_trainer(config, callbacks)
        keep_fast_allocations()
        return trainer


def keep_fast_allocations() -> None:
    """Keep deterministic algorithms but stop torch filling every new tensor with NaN.

    ``deterministic: warn`` (our default) turns on ``torch.use_deterministic_algorithms``, which
    by default also fills each uninitialised tensor (``torch.empty``, the outputs of LayerNorm
    and gathers) so that reads of garbage are reproducible. No op of ours reads uninitialised
    memory, and the fill cost 15-25% of an EggNet forward on the CPU (``aten::fill_`` was the
    largest self time in its profile).
    """
    torch.utils.deterministic.fill_uninitialized_memory = False


def main(args: list[str] | None = None, *, run: bool = True) -> TrackCLI:
    """Run one of :data:`trackcore.cli.TRAIN_COMMANDS`; ``args`` as on the command line (``["fit", "--config", f]``)."""
    return TrackCLI(
        TrackingModule,
        L.LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        args=args,
        run=run,
        seed_everything_default=0,
        trainer_defaults={"deterministic": "warn", "log_every_n_steps": 10, "devices": 1},
        save_config_callback=SaveConfigBesideLogs,
        save_config_kwargs={"overwrite": True},
        auto_configure_optimizers=False,
    )
