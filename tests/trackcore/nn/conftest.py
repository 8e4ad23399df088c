"""The building-block tests all run on one intra-op thread (see tests.conftest.single_thread)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_thread(single_thread: None) -> None:
    """Tiny tensors: on a busy machine every parallel region waits for a descheduled worker."""
