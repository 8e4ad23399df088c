"""Read a previous stage's outputs (``trackcore predict --predict_dir``) as the next stage's data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning as L

from trackcore.data.dataset import ProcessedEventDataset
from trackcore.data.edge_dropout import DropTrueEdges
from trackcore.data.errors import DataError
from trackcore.data.sectors import PhiSectors
from trackcore.data.split_loaders import SPLITS, SplitLoadersMixin


class StageDataModule(SplitLoadersMixin, L.LightningDataModule):
    """The per-event outputs of a stage, split as that stage wrote them (``<input_dir>/<split>/event*.pt``).

    Acorn's pattern: stage 1 (e.g. metric learning) runs ``predict`` and writes each event
    with its graph; stage 2 (e.g. the edge classifier) trains on those files.

    Args:
        input_dir: the ``--predict_dir`` of the previous stage.
        batch_size: events per batch.
        loader_workers: DataLoader worker processes.
        seed: shuffling seed of the training split.
        drop_true_edges: remove this fraction of each event's true input-graph edges, in every
            split (:class:`~trackcore.data.edge_dropout.DropTrueEdges`; HGNN's robustness test).
        drop_seed: seed of the edges removed (mixed with the event id).
        train_sectors: cut each training event to one of this many azimuthal sectors, drawn anew at
            every step (:class:`~trackcore.data.sectors.PhiSectors`: full hit density, a fraction of the
            size); 1 trains on whole events. Validation, test and predict events stay whole.
        sector_overlap: azimuth (rad) added on each side of a sector.

    Raises:
        DataError: the folder or its train split is missing.
    """

    def __init__(
        self,
        *,
        input_dir: str,
        batch_size: int = 1,
        loader_workers: int = 0,
        seed: int = 0,
        drop_true_edges: float = 0.0,
        drop_seed: int = 0,
        train_sectors: int = 1,
        sector_overlap: float = 0.1,
    ) -> None:
        super().__init__()
        self.input_dir = Path(input_dir)
        self.batch_size, self.loader_workers, self.seed = batch_size, loader_workers, seed
        # DropTrueEdges checks the fraction (a bad one raises here, before any data is read)
        self.transform = DropTrueEdges(drop_true_edges, drop_seed) if drop_true_edges != 0 else None
        self.sectors = PhiSectors(train_sectors, sector_overlap, seed) if train_sectors != 1 else None
        self.datasets: dict[str, ProcessedEventDataset] = {}

    def setup(self, stage: str | None = None) -> None:
        if not self.input_dir.is_dir():
            raise DataError(self.input_dir, "stage output folder not found; run the previous stage's predict first")
        self.datasets = {
            s: ProcessedEventDataset(self.input_dir / s, transform=self._transform(s, predict=stage == "predict"))
            for s in SPLITS
            if (self.input_dir / s).is_dir()
        }
        if "train" not in self.datasets and stage in (None, "fit"):
            raise DataError(self.input_dir, "has no train/ split of stage outputs")

    def _transform(self, split: str, *, predict: bool = False) -> Callable[[Any], Any] | None:
        """The split's transform: the dropped edges everywhere, then the sector on training events
        (not when predicting: a stage's outputs are whole events)."""
        if split != "train" or self.sectors is None or predict:
            return self.transform
        if self.transform is None:
            return self.sectors
        drop, sectors = self.transform, self.sectors
        return lambda event: sectors(drop(event))

    def _missing_split(self, split: str) -> Exception:
        return DataError(self.input_dir, f"has no {split}/ split of stage outputs")
