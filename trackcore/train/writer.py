"""Stage artefacts: ``predict`` writes every event's outputs to disk (acorn's train -> infer -> eval)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter

from trackcore.candidates import TrackCandidates
from trackcore.data.atomic import atomic_write, atomic_write_text

STAGE_RECORD = "stage.json"
"""The file of a stage folder that records the settings that made it (:func:`stage_settings`)."""


def stage_settings(module: L.LightningModule, checkpoint: str | None = None) -> dict[str, Any]:
    """The settings that made a stage's outputs: the module's class, its edge cuts, its builder (as
    validation chose it) and its refinement, and the checkpoint. Later steps read them
    (:func:`read_stage_settings`) instead of assuming defaults."""
    kind = type(module)
    record: dict[str, Any] = {"module": f"{kind.__module__}.{kind.__name__}", "checkpoint": checkpoint}
    for name in ("edge_cut", "edge_score_cut"):
        if getattr(module, name, None) is not None:
            record[name] = float(getattr(module, name))
    builder = getattr(module, "builder", None)
    if builder is not None:
        record["builder"] = builder.record()
    refine = getattr(module, "refine", None)
    if refine is not None and dataclasses.is_dataclass(refine):
        record["refine"] = dataclasses.asdict(refine)  # nested settings (the searches off the beam line) as mappings
    return record


def read_stage_settings(stage_dir: str | Path) -> dict[str, Any] | None:
    """The settings a stage folder records (None for a folder written before they were recorded).

    Raises:
        ValueError: the record is not JSON (the file is named).
    """
    path = Path(stage_dir) / STAGE_RECORD
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err})") from None


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
    """Write each predicted event to ``output_dir/<split>/event<id>.pt`` (and its candidates as CSV),
    and the settings that made them to ``output_dir/stage.json`` (:func:`stage_settings`).

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

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Record the settings that make this stage (``stage.json``), the checkpoint's builder included."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        record = stage_settings(pl_module, None if trainer.ckpt_path is None else str(trainer.ckpt_path))
        atomic_write_text(self.output_dir / STAGE_RECORD, json.dumps(record, indent=2, default=str) + "\n")

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
