from __future__ import annotations

import math

import pytest
import torch

from trackcore.losses import pt_weight


def test_pinned_values() -> None:
    pt = torch.tensor([math.nan, 0.0, -1.0, 0.2, 0.5, 0.75, 0.9, 1.0, 1.5, math.inf])
    expected = [0.5, 0.5, 0.5, 0.5, 0.5, 0.75, 0.9, 1.0, 1.0, 1.0]
    w = pt_weight(pt)
    assert w.shape == pt.shape and w.dtype == pt.dtype
    assert w.tolist() == pytest.approx(expected, abs=1e-6)


def test_other_settings() -> None:
    pt = torch.tensor([0.0, 0.1, 0.3, 0.8, math.nan], dtype=torch.float64)
    # ramp from -0.2 to 0.3: 0 pT still gets the floor, 0.1 is 3/5 of the way up
    assert pt_weight(pt, pt_cut=0.3, floor=0.5).tolist() == pytest.approx([0.5, 0.8, 1.0, 1.0, 0.5])
    # no window: a step at the cut
    assert pt_weight(pt, pt_cut=0.3, floor=0.2, window=0.0).tolist() == pytest.approx([0.2, 0.2, 1.0, 1.0, 0.2])
    assert pt_weight(pt, floor=1.0).tolist() == [1.0] * 5


def test_rejects_bad_input() -> None:
    pt = torch.ones(3)
    with pytest.raises(ValueError, match="floor"):
        pt_weight(pt, floor=1.5)
    with pytest.raises(ValueError, match="window"):
        pt_weight(pt, window=-0.1)
    with pytest.raises(ValueError, match="pt_cut"):
        pt_weight(pt, pt_cut=math.nan)
    with pytest.raises(ValueError, match="1-dimensional"):
        pt_weight(pt[None])
    with pytest.raises(ValueError, match="floating-point"):
        pt_weight(torch.ones(3, dtype=torch.int64))
