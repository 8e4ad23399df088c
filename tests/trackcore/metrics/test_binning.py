"""Clopper-Pearson intervals and binned rates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trackcore.metrics import binned_rate, clopper_pearson


def test_clopper_pearson_closed_forms():
    n, cl = 10, 0.683
    a = (1 - cl) / 2
    lo, hi = clopper_pearson(np.array([0, 10, 5]), np.array([n, n, n]), cl)
    assert lo[0] == 0 and hi[0] == pytest.approx(1 - a ** (1 / n))  # k = 0
    assert hi[1] == 1 and lo[1] == pytest.approx(a ** (1 / n))  # k = n
    assert lo[2] < 0.5 < hi[2] and hi[2] - 0.5 == pytest.approx(0.5 - lo[2])  # symmetric at k = n/2
    lo, hi = clopper_pearson(np.array([0]), np.array([0]))
    assert math.isnan(lo[0]) and math.isnan(hi[0])


def test_binned_rate_counts():
    r = binned_rate(
        np.array([0.5, 1.5, 1.7, 9.0, 50.0]), np.array([1, 0, 1, 1, 1], bool), np.array([0, 1, 2, 10]), "pt"
    )
    assert r.total.tolist() == [1, 2, 1] and r.passed.tolist() == [1, 1, 1]  # 50 is outside
    assert r.rate.tolist() == [1.0, 0.5, 1.0]
    assert r.to_dict()["rate"] == [1.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="strictly increasing"):
        binned_rate(np.ones(2), np.ones(2, bool), np.array([1.0, 1.0]), "pt")
