"""unique_ints: np.unique's values by one sort."""

from __future__ import annotations

import numpy as np
import pytest

from trackcore.arrays import unique_ints


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint16, bool])
def test_it_matches_np_unique(dtype) -> None:
    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 50, 10_000):
        values = rng.integers(0, 2 if dtype is bool else 300, n).astype(dtype)
        out = unique_ints(values)
        assert out.dtype == values.dtype
        np.testing.assert_array_equal(out, np.unique(values))
    np.testing.assert_array_equal(unique_ints(np.array([[3, -1], [3, 7]])), [-1, 3, 7])  # flattened, negatives


def test_other_dtypes_are_named() -> None:
    with pytest.raises(TypeError, match="integers .got dtype float64"):
        unique_ints(np.array([1.0, 2.0]))
