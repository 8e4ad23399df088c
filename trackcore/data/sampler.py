"""A shuffling sampler whose order depends only on (seed, epoch), so a resumed run sees the same order."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class EpochShuffleSampler(Sampler[int]):
    """A new random order each epoch, seeded by ``seed + epoch`` (Lightning calls :meth:`set_epoch`).

    A DataLoader's own ``generator`` advances with every epoch it has run, so a run resumed
    from a checkpoint at epoch 2 would draw epoch 0's order again; this sampler does not.
    """

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())

    def __len__(self) -> int:
        return self.n
