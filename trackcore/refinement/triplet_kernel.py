"""The compiled kernel of :func:`trackcore.refinement.triplets.compatible_triplets`, and the cells it reads.

Each middle hit ``m`` looks for its doublet partners only in the cells that may hold one: the points of each
layer are cut along its long side (``z`` on a barrel-like layer, ``r`` on a disk) into cells of
:data:`CELL_MM`, each sorted by azimuth; a cell is read (its azimuth window, by binary search) unless its
``(r, z)`` box lies farther than ``max_gap`` from ``m`` or every line from ``m`` into it meets the beam line
beyond ``max_z0``. The partners found are put back in the order a walk through ``m``'s azimuth window (up,
then down) meets them, so the triplets and their order are those of walking the window point by point.
"""

from __future__ import annotations

import math

import numba
import numpy as np

CELL_MM = 100.0
"""Length (mm) of a cell along its layer's long side."""


def layer_cells(r: np.ndarray, z: np.ndarray, layer: np.ndarray) -> tuple[np.ndarray, ...]:
    """The cells of points (in azimuth order) on layers ``>= 0``: each cell's points in azimuth order
    (``rows``, ``start``: cell ``c`` holds ``rows[start[c]:start[c + 1]]``), each layer's cells
    (``layer_start``: layer ``l`` holds cells ``layer_start[l]:layer_start[l + 1]``) and value, and the
    ``(r, z)`` box of each layer and of each cell.

    Shapes:
        r, z, layer: (F,); returns rows (F',) int64, start (C + 1,) int64, layer_start (L + 1,) int64,
        layer_value (L,) int64, layer_box (L, 4) and cell_box (C, 4) float64 ``r_lo, r_hi, z_lo, z_hi``.
    """
    on = np.flatnonzero(layer >= 0)
    cell = np.full(len(r), -1, np.int64)
    values = np.unique(layer[on])
    layer_start = np.zeros(len(values) + 1, np.int64)
    layer_box = np.empty((len(values), 4))
    for i, value in enumerate(values):
        mine = on[layer[on] == value]
        along = z[mine] if np.ptp(z[mine]) >= np.ptp(r[mine]) else r[mine]
        piece = np.floor((along - along.min()) / CELL_MM).astype(np.int64)
        _, piece = np.unique(piece, return_inverse=True)
        cell[mine] = layer_start[i] + piece
        layer_start[i + 1] = layer_start[i] + int(piece.max()) + 1
        layer_box[i] = r[mine].min(), r[mine].max(), z[mine].min(), z[mine].max()
    n_cells = int(layer_start[-1])
    rows = on[np.lexsort((on, cell[on]))]  # by cell, then azimuth (the points are in azimuth order)
    start = np.searchsorted(cell[rows], np.arange(n_cells + 1))
    cell_box = np.empty((n_cells, 4))
    for c in range(n_cells):
        mine = rows[start[c]:start[c + 1]]
        cell_box[c] = r[mine].min(), r[mine].max(), z[mine].min(), z[mine].max()
    return rows, start, layer_start, values.astype(np.int64), layer_box, cell_box


@numba.njit(cache=True, nogil=True)
def _may_hold(rm, zm, r_lo, r_hi, z_lo, z_hi, max_gap2, max_z0):  # noqa: ANN001, ANN202, PLR0913 (numba signature)
    """Whether a point of the ``(r, z)`` box may make a doublet with the point at ``(rm, zm)``: within ``max_gap``
    in ``(r, z)`` (the 3D gap is larger) and on a line meeting the beam line within ``max_z0`` (its ``z0`` over the
    box lies between the corners' unless the box spans ``rm``)."""
    dr = max(0.0, r_lo - rm, rm - r_hi)
    dz = max(0.0, z_lo - zm, zm - z_hi)
    if dr * dr + dz * dz > max_gap2 * (1.0 + 1e-9) + 1e-9:
        return False
    if math.isinf(max_z0) or r_lo <= rm <= r_hi:
        return True
    tol = 1e-6 * (1.0 + max_z0)
    above, below = True, True
    for rc in (r_lo, r_hi):
        for zc in (z_lo, z_hi):
            z0 = zm - rm * (zc - zm) / (rc - rm)
            if z0 <= max_z0 + tol:
                above = False
            if z0 >= -max_z0 - tol:
                below = False
    return not (above or below)


@numba.njit(cache=True, nogil=True)
def triplets_kernel(x, y, z, lay, phi, rows, start, layer_start, layer_value, layer_box, cell_box, window,  # noqa: ANN001, ANN201, PLR0913
                    min_gap, max_gap, max_d0, min_radius, max_dtheta, max_cot, max_z0):
    """The compatible triplets ``(bottom, middle, top)`` of the points (``x, y, z``: sorted by azimuth ``phi``; the
    cells of :func:`layer_cells`), see :mod:`trackcore.refinement.triplets`."""
    n = x.shape[0]
    cap = 1024
    out = np.empty((cap, 3), np.int64)
    count = 0
    r3 = np.empty(n)
    rr = np.empty(n)
    for i in range(n):
        r3[i] = math.sqrt(x[i] ** 2 + y[i] ** 2 + z[i] ** 2)
        rr[i] = math.hypot(x[i], y[i])
    min_gap2, max_gap2 = min_gap * min_gap, max_gap * max_gap
    two_pi = 2.0 * math.pi
    bottom = np.empty(n, np.int64)
    bottom_theta = np.empty(n)
    bottom_key = np.empty(n, np.int64)
    top = np.empty(n, np.int64)
    top_theta = np.empty(n)
    top_key = np.empty(n, np.int64)
    seg_lo = np.empty(3)
    seg_hi = np.empty(3)
    for m in range(n):
        if lay[m] < 0:
            continue
        xm, ym, zm, lm, pm = x[m], y[m], z[m], lay[m], phi[m]
        n_bottom = 0
        n_top = 0
        lay_i, next_layer, skip_layer = 0, 0, False
        reach = max_d0 + rr[m] * rr[m] / (2.0 * min_radius)  # a straight line's d0 through m, with the bend
        if window >= math.pi:  # the window's azimuth ranges within [-pi, pi]
            n_seg = 1
            seg_lo[0], seg_hi[0] = -math.inf, math.inf
        else:
            n_seg = 1
            seg_lo[0], seg_hi[0] = pm - window, pm + window
            if pm - window < -math.pi:
                seg_lo[n_seg], seg_hi[n_seg] = pm - window + two_pi, math.inf
                n_seg += 1
            if pm + window > math.pi:
                seg_lo[n_seg], seg_hi[n_seg] = -math.inf, pm + window - two_pi
                n_seg += 1
        for c in range(cell_box.shape[0]):
            if c == 0 or c >= next_layer:  # entering a layer: skip all its cells if its box may hold none
                while c >= layer_start[lay_i + 1]:
                    lay_i += 1
                next_layer = layer_start[lay_i + 1]
                skip_layer = layer_value[lay_i] == lm or not _may_hold(
                    rr[m], zm, layer_box[lay_i, 0], layer_box[lay_i, 1], layer_box[lay_i, 2], layer_box[lay_i, 3],
                    max_gap2, max_z0)
            if skip_layer or not _may_hold(rr[m], zm, cell_box[c, 0], cell_box[c, 1], cell_box[c, 2],
                                           cell_box[c, 3], max_gap2, max_z0):
                continue
            a, b = start[c], start[c + 1]
            for s in range(n_seg):
                first = a
                last = b
                if seg_lo[s] > -math.inf:
                    lo_, hi_ = a, b
                    while lo_ < hi_:  # the first point of the cell at or above seg_lo
                        mid = (lo_ + hi_) // 2
                        if phi[rows[mid]] < seg_lo[s]:
                            lo_ = mid + 1
                        else:
                            hi_ = mid
                    first = lo_
                for i in range(first, last):
                    j = rows[i]
                    if phi[j] > seg_hi[s]:
                        break
                    # the walk's direction and order: up from m (wrapping at n), then down
                    if j > m:
                        up, down = phi[j] - pm, pm - phi[j] + two_pi
                    else:
                        up, down = phi[j] - pm + two_pi, pm - phi[j]
                    if up <= window:
                        key = j - m if j > m else j - m + n
                    elif down <= window:
                        key = n + (m - j if j < m else m - j + n)
                    else:
                        continue
                    dz = z[j] - zm
                    if abs(dz) > max_gap:
                        continue
                    dx, dy = x[j] - xm, y[j] - ym
                    dxy2 = dx * dx + dy * dy
                    gap2 = dxy2 + dz * dz
                    if gap2 < min_gap2 or gap2 > max_gap2 or dxy2 <= 0.0 or dz * dz > max_cot * max_cot * dxy2:
                        continue
                    dr = rr[j] - rr[m]  # the doublet's (r, z) line at the beam line: |z0| <= max_z0 (inf: no rule)
                    if abs(zm * dr - rr[m] * dz) > max_z0 * abs(dr):
                        continue
                    outer = r3[j] > r3[m]
                    sign = 1.0 if outer else -1.0  # the doublet's direction, inner hit to outer
                    cross = xm * dy - ym * dx
                    if cross * cross > reach * reach * dxy2 or sign * (xm * dx + ym * dy) < 0.0:
                        continue  # passes too far from the beam line, or moves inwards
                    theta = math.atan(sign * dz / math.sqrt(dxy2))
                    if outer:
                        top[n_top], top_theta[n_top], top_key[n_top] = j, theta, key
                        n_top += 1
                    else:
                        bottom[n_bottom], bottom_theta[n_bottom], bottom_key[n_bottom] = j, theta, key
                        n_bottom += 1
        if n_bottom == 0 or n_top == 0:
            continue
        walk = np.argsort(bottom_key[:n_bottom])  # the partners in the order the walk meets them
        bottom_walk, bottom_theta_walk = bottom[:n_bottom][walk], bottom_theta[:n_bottom][walk]
        walk = np.argsort(top_key[:n_top])
        top_walk, top_theta_walk = top[:n_top][walk], top_theta[:n_top][walk]
        by_theta = np.argsort(top_theta_walk)  # each bottom's tops within max_dtheta: a sorted range
        top_sorted = top_theta_walk[by_theta]
        for u in range(n_bottom):
            b = bottom_walk[u]
            first = np.searchsorted(top_sorted, bottom_theta_walk[u] - max_dtheta)
            for w in range(first, n_top):
                if top_sorted[w] > bottom_theta_walk[u] + max_dtheta:
                    break
                t = top_walk[by_theta[w]]
                ax, ay = xm - x[b], ym - y[b]
                cx, cy = x[t] - x[b], y[t] - y[b]
                den = 2.0 * (ax * cy - ay * cx)
                if den == 0.0:
                    continue
                a2, c2 = ax * ax + ay * ay, cx * cx + cy * cy
                ox, oy = (cy * a2 - ay * c2) / den, (ax * c2 - cx * a2) / den  # the centre, from b
                radius = math.hypot(ox, oy)
                if radius < min_radius or abs(math.hypot(ox + x[b], oy + y[b]) - radius) > max_d0:
                    continue
                if count == cap:
                    cap *= 2
                    grown = np.empty((cap, 3), np.int64)
                    grown[:count] = out[:count]
                    out = grown
                out[count, 0], out[count, 1], out[count, 2] = b, m, t
                count += 1
    return out[:count].copy()
