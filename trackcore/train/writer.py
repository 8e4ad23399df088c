"""Stage artefacts: ``predict`` writes every event's outputs to disk (acorn's train -> infer -> eval)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from trackcore.candidates import TrackCandidates
from trackcore.data.atomic import atomic_write


def save_stage_event(event: Any, folder: str | Path, *, overwrite: bool = False) -> Path:
    """Write one stage output: ``folder/event<id>.pt`` (atomically: a stopped run leaves no half file)
    and, when the event carries track candidates, ``event<id>.tracks.csv``; returns the ``.pt`` path.

    Raises:
        FileExistsError: the file exists and ``overwrite`` is False (stage outputs are never mixed).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"event{int(event.event_id):09d}.pt"
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: exists; pass overwrite=True to replace a previous stage output")
    atomic_write(path, lambda f: torch.save(event.cpu(), f))
    if "track_id" in event:
        TrackCandidates(event.track_hit_id.numpy(), event.track_id.numpy()).save(path.with_suffix(".tracks.csv"))
    return path


class StageWriter(BasePredictionWriter):
    """Write each predicted event to ``output_dir/<split>/event<id>.pt`` (and its candidates as CSV).

    The split names come from the datamodule's ``predict_splits`` (one per predict loader,
    e.g. ``["train", "val", "test"]``), so the next stage reads the same splits.

    Args:
        output_dir: where the stage's outputs go.
        overwrite: replace existing files (otherwise an existing file is an error, so a
            stage's outputs are never silently mixed with another run's).
    """

    def __init__(self, output_dir: str, *, overwrite: bool = False) -> None:
        super().__init__(write_interval="batch")
        self.output_dir = Path(output_dir)
        self.overwrite = overwrite

    def _split(self, trainer: L.Trainer, dataloader_idx: int) -> str:
        splits = getattr(trainer.datamodule, "predict_splits", None) if trainer.datamodule is not None else None
        return splits[dataloader_idx] if splits else f"set{dataloader_idx}"

    def write_on_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        prediction: Any,
        batch_indices: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        folder = self.output_dir / self._split(trainer, dataloader_idx)
        for event in prediction:
            save_stage_event(event, folder, overwrite=self.overwrite)
