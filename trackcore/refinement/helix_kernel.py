"""The robust helix search's inner loop, compiled (numba): for each point set, the points on its best
helix through one of the given triples (:meth:`trackcore.refinement.helix.HelixCheck.best_helices`).

The search tries every triple on every point of every set: ``B x T x n`` residuals. Written with
numpy arrays, each of its ~40 operations streams a ``(B, T, n)`` temporary through memory; this loop
keeps one triple's state in registers, skips the square root and the ``(r, z)`` residual of points
provably off the circle, and stops a triple once it cannot reach the best triple's count. The arithmetic
is the numpy formulation's, operation for operation, and the summed cost is numpy's pairwise sum
(:func:`_pairwise_sum`), so the chosen triple and the points are the same bits (the numpy formulation is
the tests' oracle). Compiled on first use and cached on disk (``cache=True``: one compilation per
installation); no function here may be recursive: numba's cache of a recursive function crashes on reload.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_PW_BLOCKSIZE = 128  # numpy's pairwise summation block (numpy/_core/src/umath/loops_utils.h.src)


@numba.njit(cache=True, nogil=True)
def _block_sum(a: np.ndarray, start: int, n: int) -> float:
    """numpy's sum of a contiguous float64 block of ``n <= 128`` values: sequential below 8, else eight
    interleaved partial sums."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[start + i]
        return res
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[start + i]
        r1 += a[start + i + 1]
        r2 += a[start + i + 2]
        r3 += a[start + i + 3]
        r4 += a[start + i + 4]
        r5 += a[start + i + 5]
        r6 += a[start + i + 6]
        r7 += a[start + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i]
        i += 1
    return res


@numba.njit(cache=True, nogil=True)
def _pairwise_sum(a: np.ndarray, n: int) -> float:
    """``a[:n].sum()`` as numpy sums a contiguous float64 row (bit-identical): blocks of at most 128
    values (:func:`_block_sum`), longer rows halved (at a multiple of 8) and the halves' sums added.
    The halving runs on an explicit stack: numba's on-disk cache of a recursive function crashes."""
    if n <= _PW_BLOCKSIZE:
        return _block_sum(a, 0, n)
    # post-order walk of the halving tree: each frame is a span, its stage (0 new, 1 left half
    # pending, 2 right half pending) and its left half's sum
    starts = np.empty(64, np.int64)
    sizes = np.empty(64, np.int64)
    stages = np.zeros(64, np.int64)
    lefts = np.empty(64)
    starts[0], sizes[0], stages[0], top = 0, n, 0, 1
    value = 0.0
    while True:
        f = top - 1
        size = sizes[f]
        if size <= _PW_BLOCKSIZE or stages[f] == 2:
            value = _block_sum(a, starts[f], size) if size <= _PW_BLOCKSIZE else lefts[f] + value
            top -= 1
            if top == 0:
                return value
            parent = top - 1
            if stages[parent] == 1:  # the parent's left half is done: now its right half
                lefts[parent] = value
                half = sizes[parent] // 2
                half -= half % 8
                stages[parent] = 2
                starts[top], sizes[top], stages[top] = starts[parent] + half, sizes[parent] - half, 0
                top += 1
            continue
        half = size // 2
        half -= half % 8
        stages[f] = 1
        starts[top], sizes[top], stages[top] = starts[f], half, 0
        top += 1


@numba.njit(cache=True, nogil=True)
def _triple_helix(x, y, r, z, valid, a, b, c, max_slope, min_gap):  # noqa: ANN001, ANN202 (numba signature)
    """The circle through points ``a, b, c`` and the ``(r, z)`` line through the two of them farthest
    apart: ``ok, ax, ay, ux, uy, rad, ri, zi, ur, uz`` (not ok where two of the points are closer than
    ``min_gap``)."""
    ax, ay, bx, by, cx, cy = x[a], y[a], x[b], y[b], x[c], y[c]
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    ok = abs(d) > 1e-12 and valid[a] and valid[b] and valid[c]
    if min_gap > 0.0:
        gap2 = min_gap * min_gap
        if ((ax - bx) ** 2 + (ay - by) ** 2 + (z[a] - z[b]) ** 2 < gap2
                or (ax - cx) ** 2 + (ay - cy) ** 2 + (z[a] - z[c]) ** 2 < gap2
                or (bx - cx) ** 2 + (by - cy) ** 2 + (z[b] - z[c]) ** 2 < gap2):
            ok = False
    if not ok:
        d = 1.0
    a2, b2, c2 = ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy
    ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d
    uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d
    rad = math.hypot(ax - ux, ay - uy)
    # the pair farthest apart in (r, z), the first of (a, b), (a, c), (b, c) on ties
    i, j = a, b
    length = math.hypot(r[b] - r[a], z[b] - z[a])
    span = math.hypot(r[c] - r[a], z[c] - z[a])
    if span > length:
        i, j, length = a, c, span
    span = math.hypot(r[c] - r[b], z[c] - z[b])
    if span > length:
        i, j, length = b, c, span
    if not length > 1e-9:
        ok = False
        length = 1.0
    ri, zi = r[i], z[i]
    ur, uz = (r[j] - ri) / length, (z[j] - zi) / length
    if not abs(uz) <= max_slope * abs(ur):
        ok = False
    return ok, ax, ay, ux, uy, rad, ri, zi, ur, uz


@numba.njit(cache=True, nogil=True)
def _point_term(xk, yk, rk, zk, ax, ay, ux, uy, rad, ri, zi, ur, uz, tol_xy, tol_rz):  # noqa: ANN001, ANN202
    """A point's summed normalised residuals ``dxy / tol_xy + drz / tol_rz`` on the helix of
    :func:`_triple_helix`, or -1 where it is off it (beyond either tolerance)."""
    dx, dy = xk - ux, yk - uy
    # |d - R| = |d^2 - R^2| / (d + R), with d^2 - R^2 expanded about the triple's first point (stable for huge R)
    power = abs((xk - ax) * ((xk + ax) - 2 * ux) + (yk - ay) * ((yk + ay) - 2 * uy))
    # far off the circle: |dx| + |dy| >= the distance to the centre, so the residual is above the
    # tolerance, with a margin for rounding (no square root for most points)
    if power > tol_xy * ((abs(dx) + abs(dy)) + rad) * (1.0 + 1e-9):
        return -1.0
    dxy = power / (math.hypot(dx, dy) + rad)
    if not dxy <= tol_xy:
        return -1.0
    drz = abs((rk - ri) * uz - (zk - zi) * ur)
    if not drz <= tol_rz:
        return -1.0
    return dxy / tol_xy + drz / tol_rz


@numba.njit(cache=True, nogil=True)
def best_helices_kernel(
    p: np.ndarray, triples: np.ndarray, valid: np.ndarray, tol_xy: float, tol_rz: float, max_slope: float,
    min_gap: float = 0.0, whole: bool = False, max_d0: float = np.inf, min_radius: float = 0.0,
) -> np.ndarray:
    """Per point set, the points within ``tol_xy`` (transverse) and ``tol_rz`` (``(r, z)``) of the helix
    through the triple that holds the most of them (ties: smallest summed normalised residuals, then
    the first triple); ``max_slope = sinh(max_eta)`` bounds ``|dz/dr|`` of the line. Triples with two
    points closer than ``min_gap``, whose circle passes farther than ``max_d0`` from the origin or has a radius
    below ``min_radius``, or (``whole``) that do not lie on their own helix (the middle point in ``(r, z)``)
    are skipped.

    Shapes:
        p: (B, n, 3) float64; triples: (T, 3) int64 indices into n; valid: (B, n) bool
        -> (B, n) bool (all False where T = 0).
    """
    n_sets, n = p.shape[0], p.shape[1]
    out = np.zeros((n_sets, n), np.bool_)
    if triples.shape[0] == 0:  # no helix to try
        return out
    terms = np.zeros(n)
    weight = 2.0 * n + 1.0
    for s in range(n_sets):
        x, y, z = p[s, :, 0], p[s, :, 1], p[s, :, 2]
        r = np.empty(n)
        for k in range(n):
            r[k] = math.hypot(x[k], y[k])
        best_score, best_t, best_count = np.inf, 0, 0
        for t in range(triples.shape[0]):
            ok, ax, ay, ux, uy, rad, ri, zi, ur, uz = _triple_helix(
                x, y, r, z, valid[s], triples[t, 0], triples[t, 1], triples[t, 2], max_slope, min_gap)
            if not (ok and abs(math.hypot(ux, uy) - rad) <= max_d0 and rad >= min_radius):
                continue  # no helix, one off the beam line or one turning too tightly
            count = 0
            on = 0  # of the triple's own points, those on its helix
            beaten = False
            for k in range(n):
                if count + (n - k) < best_count:  # fewer points than the best triple's, whatever the rest
                    beaten = True
                    break
                terms[k] = 0.0
                if valid[s, k]:
                    term = _point_term(x[k], y[k], r[k], z[k], ax, ay, ux, uy, rad, ri, zi, ur, uz, tol_xy, tol_rz)
                    if term >= 0.0:
                        terms[k] = term
                        count += 1
                        on += (k == triples[t, 0]) + (k == triples[t, 1]) + (k == triples[t, 2])
            if beaten:  # the most points win before any cost (weight > the largest summed cost)
                continue
            if whole and on < 3:  # its middle point in (r, z) is off the line through the other two
                continue
            score = (_pairwise_sum(terms, n) if count else 0.0) - count * weight
            if score < best_score:
                best_score, best_t, best_count = score, t, count
        if best_score == np.inf:  # no triple made a helix
            continue
        ok, ax, ay, ux, uy, rad, ri, zi, ur, uz = _triple_helix(
            x, y, r, z, valid[s], triples[best_t, 0], triples[best_t, 1], triples[best_t, 2], max_slope, min_gap)
        if not ok:
            continue
        for k in range(n):  # the points the best triple counted
            out[s, k] = valid[s, k] and _point_term(
                x[k], y[k], r[k], z[k], ax, ay, ux, uy, rad, ri, zi, ur, uz, tol_xy, tol_rz) >= 0.0
    return out
