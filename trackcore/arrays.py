"""Distinct integers, fast: ``np.unique`` without its hash path.

NumPy 2.4's plain ``np.unique(a)`` takes a hash-based path that is far slower than a sort on arrays
of many distinct values, such as the refinement's (hit, track) keys in a TrackML-density event (the
measurement is in the README, "Full events"). The hot paths call this.
"""

from __future__ import annotations

import numpy as np


def unique_ints(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array (as ``np.unique``, by one sort).

    Shapes:
        values: any shape, flattened; returns (U,).
    """
    values = np.asarray(values)
    if values.dtype.kind not in "iub":
        raise TypeError(f"unique_ints takes integers (got dtype {values.dtype})")
    out = np.sort(values, axis=None)
    if out.size < 2:
        return out
    keep = np.empty(out.size, bool)
    keep[0] = True
    np.not_equal(out[1:], out[:-1], out=keep[1:])
    return out[keep]
