"""The train/val/test/predict loaders shared by every datamodule that holds one dataset per split."""

from __future__ import annotations

from torch.utils.data import Dataset
from torch_geometric.loader import DataLoader

from trackcore.data.sampler import EpochShuffleSampler

SPLITS = ("train", "val", "test")


class SplitLoadersMixin:
    """Loaders over ``self.datasets`` (split name -> dataset), set by the datamodule's ``setup``.

    Needs ``batch_size``, ``loader_workers`` and ``seed`` attributes. Training order comes from
    :class:`EpochShuffleSampler`, so a resumed run sees the same order as an uninterrupted one.
    """

    datasets: dict[str, Dataset]
    batch_size: int
    loader_workers: int
    seed: int
    predict_only: tuple[str, ...] | None = None
    """The splits ``predict`` writes (None: every non-empty one); ``trackcore predict --predict_splits``."""

    def _missing_split(self, split: str) -> Exception:
        return ValueError(f"the {split} split is empty")

    def _loader(self, split: str, *, shuffle: bool) -> DataLoader:
        if not self.datasets:
            raise RuntimeError("call prepare_data() and setup() before asking for loaders")
        if split not in self.datasets:
            raise self._missing_split(split)
        sampler = EpochShuffleSampler(len(self.datasets[split]), self.seed) if shuffle else None
        return DataLoader(
            self.datasets[split],
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.loader_workers,
            persistent_workers=self.loader_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    @property
    def predict_splits(self) -> list[str]:
        """The non-empty splits (those of ``predict_only``, when set), in the order of
        :meth:`predict_dataloader`'s loaders."""
        return [split for split in SPLITS if split in self.datasets
                and (self.predict_only is None or split in self.predict_only)]

    def predict_dataloader(self) -> list[DataLoader]:
        """One loader per non-empty split, so a stage's outputs keep the train/val/test split."""
        if not self.datasets:
            raise RuntimeError("call prepare_data() and setup() before asking for loaders")
        return [self._loader(split, shuffle=False) for split in self.predict_splits]
