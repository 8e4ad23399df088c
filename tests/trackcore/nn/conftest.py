"""One intra-op thread for the building-block tests: their tensors are tiny, and on a busy machine every
parallel region of a matmul or LayerNorm waits for a descheduled worker (1 s instead of 6 ms per step)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread() -> Iterator[None]:
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)
