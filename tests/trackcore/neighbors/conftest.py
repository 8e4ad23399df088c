"""Small seeded point sets for the neighbour-search tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def points() -> torch.Tensor:
    return torch.rand(500, 6, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def queries() -> torch.Tensor:
    return torch.rand(200, 6, generator=torch.Generator().manual_seed(1))
