from __future__ import annotations

import pytest
import torch

from trackcore.neighbors import knn_graph, radius_graph, torch_chunk_size, torch_search
from trackcore.neighbors.torch_search import DEFAULT_BUDGET_BYTES, TorchSearcher


@pytest.mark.parametrize("num_database", [1, 1000, 100_000, 1_000_000, 50_000_000])
def test_chunk_block_fits_the_budget(num_database: int) -> None:
    chunk = torch_chunk_size(num_database)
    assert chunk >= 1
    assert chunk * num_database * 4 <= DEFAULT_BUDGET_BYTES or chunk == 1
    assert (chunk + 1) * num_database * 4 > DEFAULT_BUDGET_BYTES  # and uses it: not needlessly small


def test_million_point_database_keeps_block_and_mask_under_256_mib() -> None:
    searcher = TorchSearcher(torch.zeros(1_000_000, 2))
    chunk = searcher.default_chunk_size()
    assert chunk == 53  # 256 MiB / (1e6 points * (4 bytes of distance + 1 byte of radius mask))
    assert chunk * 1_000_000 * (4 + 1) <= 256 * 2**20


def test_search_loop_uses_the_budgeted_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch_search, "DEFAULT_BUDGET_BYTES", 40_000)
    blocks: list[int] = []
    original = TorchSearcher._partial_distances

    def spy(self: TorchSearcher, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        block, q_sq = original(self, query)
        blocks.append(block.numel() * block.element_size())
        return block, q_sq

    monkeypatch.setattr(TorchSearcher, "_partial_distances", spy)
    x = torch.rand(2000, 3, generator=torch.Generator().manual_seed(0))
    knn_graph(x, 3, backend="torch")
    radius_graph(x, 0.1, backend="torch")
    assert len(blocks) == 2 * 500  # 40 kB / (2000 * 5 B) = 4 queries per chunk
    assert max(blocks) <= 40_000


def test_bad_budget_raises() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        torch_chunk_size(10, budget_bytes=0)
