"""``trackcore fit | validate | test | predict``: LightningCLI over any task module and datamodule.

    trackcore fit --config trackcore/graph/configs/small_metric_learning.yaml
    trackcore fit --config ... --ckpt_path runs/.../checkpoints/last.ckpt     # resume
    trackcore fit --config ... --init_weights other_run.ckpt                  # fine-tune: weights only
    trackcore predict --config ... --ckpt_path best.ckpt --predict_dir stage_out/

The model, data, optimizer and scheduler are ``class_path``/``init_args`` blocks in YAML; the
resolved config is saved as ``config.yaml`` beside every run's logs (none without a logger). Every run logs to CSV
(and to W&B when installed, offline unless configured) and keeps the last and best
checkpoints (``checkpoint:`` block of the config; :mod:`trackcore.train.checkpoint` says by what
the best is chosen). A ``--ckpt_path`` that is missing or is no readable checkpoint, and a
learning-rate schedule whose length cannot follow the run, are reported in one line (exit 2).
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from typing import Any, NoReturn

import lightning as L
import torch
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback

from trackcore.data.split_loaders import SPLITS
from trackcore.train.checkpoint import BestAndLastCheckpoint
from trackcore.train.init_weights import InitWeights
from trackcore.train.loggers import default_loggers
from trackcore.train.module import TrackingModule
from trackcore.train.schedule import ScheduleLengthError
from trackcore.train.writer import StageWriter

# values of ckpt_path that Lightning resolves itself (no file to check)
_LIGHTNING_CKPT_KEYWORDS = ("best", "last", "hpc", "registry")


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
        parser.add_argument(
            "--predict_splits", type=list[str] | None, default=None,
            help="predict: write only these splits (e.g. [val,test]; default every one)",
        )
        parser.add_argument(
            "--init_weights", type=str | None, default=None,
            help="fit: start from this checkpoint's weights (epoch, optimizer and schedule afresh; "
                 "--ckpt_path resumes a run instead)",
        )

    def _parse_ckpt_path(self) -> None:
        """Keep the given config as it is when ``--ckpt_path`` is given.

        LightningCLI would overwrite the model's config with the hyper-parameters stored in the
        checkpoint, so inference settings changed in the YAML or on the command line (a score
        cut, a radius, the track builder) would be silently ignored by ``validate``, ``test``
        and ``predict``. Here the config is the truth; the checkpoint gives the weights (and a
        config whose model does not match them fails loudly on the state dict).

        The file is checked here, before anything is built: a missing, truncated or foreign
        file is one line naming it (exit 2), not a traceback from deep inside Lightning.
        """
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand else {}
        for flag in ("ckpt_path", "init_weights"):
            path = config.get(flag)
            problem = None if path is None else checkpoint_problem(path)
            if problem is not None:
                _fail(f"--{flag} {path}: {problem}")

    def before_predict(self) -> None:
        """``--predict_splits``: the datamodule writes only those splits (each one named and known)."""
        splits = self._get(self.config, "predict_splits")
        if splits is None:
            return
        unknown = [s for s in splits if s not in SPLITS]
        if unknown or not splits:
            _fail(f"--predict_splits {splits}: name one or more of {list(SPLITS)}")
        if not hasattr(self.datamodule, "predict_splits"):
            _fail(f"--predict_splits: {type(self.datamodule).__name__} writes no splits")
        self.datamodule.predict_only = tuple(splits)

    def _run_subcommand(self, subcommand: str) -> None:
        try:
            super()._run_subcommand(subcommand)
        except ScheduleLengthError as err:
            _fail(str(err))

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Any]) -> L.Trainer:
        if config.get("logger") in (None, True):
            config["logger"] = default_loggers(name=self._get(self.config, "run_name") or "trackcore")
        predict_dir = self._get(self.config, "predict_dir")
        if predict_dir:
            callbacks = [*callbacks, StageWriter(predict_dir)]
        init_weights = self._get(self.config, "init_weights")
        if init_weights:
            callbacks = [*callbacks, InitWeights(init_weights)]
        trainer = super()._instantiate_trainer(config, callbacks)
        self._keep_resumed_checkpoints(trainer)
        keep_fast_allocations()
        return trainer

    def _keep_resumed_checkpoints(self, trainer: L.Trainer) -> None:
        """A resumed fit keeps saving where the run saved (unless ``--checkpoint.dirpath`` says otherwise).

        Its logs go to a new version folder (Lightning's CSV logger would delete a reused folder's
        metrics.csv), and Lightning restores the checkpoint callback's best-so-far only when its folder
        is the saved one: otherwise the resumed epochs keep a best of their own, and ``last.ckpt`` and
        the best are split over two folders.
        """
        subcommand = self.config.get("subcommand")
        config = self.config[subcommand] if subcommand == "fit" else {}
        path = config.get("ckpt_path")
        if path is None or not Path(path).is_file() or config.get("checkpoint.dirpath") is not None:
            return
        saved = torch.load(path, map_location="cpu", weights_only=False, mmap=True).get("callbacks") or {}
        for callback in trainer.callbacks:
            # the state Lightning restores into this callback (none when its monitor or mode changed)
            state = saved.get(callback.state_key) if isinstance(callback, BestAndLastCheckpoint) else None
            if isinstance(state, dict) and state.get("dirpath"):
                callback.dirpath = state["dirpath"]


def checkpoint_problem(ckpt_path: str | Path) -> str | None:
    """What is wrong with ``ckpt_path`` as a Lightning checkpoint (None: nothing).

    Lightning's own keywords (``best``, ``last``, ...) and URLs are left to Lightning. The file
    must be a whole zip archive (what ``torch.save`` writes), opened memory-mapped, so checking
    it reads no tensor data.
    """
    text = str(ckpt_path)
    if text in _LIGHTNING_CKPT_KEYWORDS or "://" in text:
        return None
    path = Path(text)
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a file"
    unreadable = "not a readable checkpoint (truncated, or not a file written by torch.save)"
    if not zipfile.is_zipfile(path):  # a cut copy has lost the archive's directory at its end
        return unreadable
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as err:  # noqa: BLE001 - any failure to read it is the same problem for the user
        return f"{unreadable}: {(str(err).strip().splitlines() or [type(err).__name__])[0]}"
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        return "not a Lightning checkpoint (no 'state_dict' in it)"
    return None


def _fail(message: str) -> NoReturn:
    """Report a bad input of a training command in one line, as argparse does, and exit with status 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def keep_fast_allocations() -> None:
    """Keep deterministic algorithms but stop torch filling every new tensor with NaN.

    ``deterministic: warn`` (our default) turns on ``torch.use_deterministic_algorithms``, which
    by default also fills each uninitialised tensor (``torch.empty``, the outputs of LayerNorm
    and gathers) so that reads of garbage are reproducible. No op of ours reads uninitialised
    memory, and the fill is a large share of an EggNet forward on the CPU (``aten::fill_`` was the
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
