"""Viz test fixtures: no test may leave a pyplot figure behind."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def no_leaked_figures():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before, "a viz function left a pyplot figure open"


def read_png(path: Path) -> np.ndarray:
    """The pixels of a written PNG (fails if the file is missing or not a PNG)."""
    assert path.is_file() and path.stat().st_size > 0
    return mpimg.imread(path, format="png")
