"""Event display: hits in x-y and r-z, coloured by track candidate and, for comparison, by true particle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from trackcore.build.candidates import as_numpy
from trackcore.viz._figure import new_figure, save_png

if TYPE_CHECKING:
    import torch

    from trackcore.build.candidates import TrackCandidates

#: Colour of unassigned hits and of noise (``particle_id == 0``).
UNASSIGNED_COLOR = "0.7"


def _palette() -> np.ndarray:
    # tab20 without its two greys (grey means unassigned / noise) followed by tab20b: 38 colours.
    tab20 = np.asarray(colormaps["tab20"].colors)
    tab20b = np.asarray(colormaps["tab20b"].colors)
    rgb = np.concatenate([np.delete(tab20, [14, 15], axis=0), tab20b])
    return np.concatenate([rgb, np.ones((len(rgb), 1))], axis=1)


def _color_index(n: int, seed: int) -> np.ndarray:
    """Palette index of each of ``n`` categories: the palette shuffled once (seeded), then cycled."""
    if n < 0:
        raise ValueError(f"Expected n >= 0 (got {n})")
    perm = np.random.default_rng(seed).permutation(len(_palette()))
    return perm[np.arange(n) % len(perm)]


def categorical_colors(n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` colours for ``n`` categories: a 38-colour categorical palette shuffled (seeded) and cycled.

    Consecutive categories always get different colours, so tracks with neighbouring ids (which
    builders often produce side by side) stay distinguishable; no colour is grey.

    Shapes:
        return: (n, 4) RGBA in [0, 1].
    """
    return _palette()[_color_index(n, seed)]


def _column(name: str, values: Any, n: int) -> np.ndarray:
    a = as_numpy(values)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"Expected '{name}' of shape ({n},), one entry per row of 'pos' (got {tuple(a.shape)})")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"Expected '{name}' to hold integers (got dtype {a.dtype})")
    return a.astype(np.int64, copy=False)


def _candidate_rows(candidates: TrackCandidates, hit_id: np.ndarray) -> np.ndarray:
    """Row of ``pos`` of each candidate membership; ValueError when a candidate hit id is not in ``hit_id``."""
    order = np.argsort(hit_id, kind="stable")
    sorted_ids = hit_id[order]
    cand = np.asarray(candidates.hit_id, dtype=np.int64)
    idx = np.searchsorted(sorted_ids, cand)
    found = idx < len(sorted_ids)
    found[found] = sorted_ids[idx[found]] == cand[found]
    if not found.all():
        missing = np.unique(cand[~found])
        raise ValueError(
            f"{missing.size} candidate hit id(s) in {int((~found).sum())} of {cand.size} memberships are not in "
            f"'hit_id' (e.g. {missing[:5].tolist()})"
        )
    return order[idx]


def _subsample(n: int, max_hits: int | None, seed: int) -> np.ndarray | None:
    """Sorted rows to keep, or None to keep all."""
    if max_hits is None:
        return None
    if max_hits < 1:
        raise ValueError(f"Expected max_hits >= 1 or None (got {max_hits})")
    if n <= max_hits:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=max_hits, replace=False))


def _draw_row(
    ax_xy: Axes,
    ax_rz: Axes,
    xyzr: np.ndarray,
    row_m: np.ndarray,
    group_m: np.ndarray,
    *,
    seed: int,
    size: float,
    lines: bool,
    unassigned_label: str,
    mark_shared: bool,
) -> tuple[int, int, int]:
    """Draw the hits of one colouring (memberships ``row_m -> group_m``) in both panels.

    Returns the number of groups, of shared rows (in > 1 group) and of rows in no group.
    """
    n = len(xyzr)
    groups, rank_m = np.unique(group_m, return_inverse=True)
    palette = _palette()
    color_m = _color_index(len(groups), seed)[rank_m]
    count_j = np.bincount(row_m, minlength=n)
    free = count_j == 0
    shared = count_j > 1
    # Each group's hits in order of distance from the origin (the line order; fine for tracks leaving the centre).
    order = np.lexsort((np.linalg.norm(xyzr[row_m, :3], axis=1), rank_m))
    marker = {"linestyle": "", "marker": "o", "markeredgewidth": 0}
    # Hits as one marker artist per palette colour and lines as one polyline per group, not one artist per hit or
    # segment: a 100k-hit event draws in seconds.
    for ax, i, k in ((ax_xy, 0, 1), (ax_rz, 2, 3)):
        ax.plot(
            xyzr[free, i], xyzr[free, k], **marker, markersize=np.sqrt(0.4 * size), color=UNASSIGNED_COLOR, zorder=1
        )
        if lines and order.size:
            pts = xyzr[row_m[order]][:, [i, k]]
            starts = np.flatnonzero(np.diff(rank_m[order])) + 1
            ax.add_collection(
                LineCollection(
                    np.split(pts, starts),
                    colors=palette[color_m[order[np.r_[0, starts]]]],
                    linewidths=0.6,
                    alpha=0.6,
                    zorder=2,
                ),
                autolim=False,
            )
        for c in np.unique(color_m):
            pts = xyzr[row_m[color_m == c]][:, [i, k]]
            ax.plot(pts[:, 0], pts[:, 1], **marker, markersize=np.sqrt(size), color=palette[c], zorder=3)
        if mark_shared:
            ax.plot(
                xyzr[shared, i],
                xyzr[shared, k],
                linestyle="",
                marker="D",
                markersize=np.sqrt(3.0 * size),
                markerfacecolor="none",
                markeredgecolor="black",
                markeredgewidth=0.6,
                zorder=4,
            )
    handles = [Line2D([], [], linestyle="", marker="o", markersize=4, color=UNASSIGNED_COLOR, label=unassigned_label)]
    if mark_shared:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="D",
                markersize=5,
                markerfacecolor="none",
                markeredgecolor="black",
                label="shared (> 1 track)",
            )
        )
    ax_xy.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.8)
    return len(groups), int(shared.sum()), int(free.sum())


def _style_axes(ax_xy: Axes, ax_rz: Axes) -> None:
    ax_xy.set_xlabel("x [mm]")
    ax_xy.set_ylabel("y [mm]")
    ax_xy.set_aspect("equal", adjustable="datalim")
    ax_rz.set_xlabel("z [mm]")
    ax_rz.set_ylabel("r [mm]")
    ax_rz.set_ylim(bottom=0.0)
    for ax in (ax_xy, ax_rz):
        ax.grid(True, alpha=0.2)


def _event_display_figure(
    pos: Any,
    *,
    candidates: TrackCandidates | None,
    hit_id: Any | None,
    particle_id: Any | None,
    title: str | None,
    max_hits: int | None,
    seed: int,
    lines: bool,
    figsize: tuple[float, float] | None,
) -> Figure:
    pos = as_numpy(pos, dtype=float)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"Expected 'pos' of shape (N, 3) with x, y, z in mm (got {tuple(pos.shape)})")
    n_all = pos.shape[0]
    bad = ~np.isfinite(pos).all(axis=1)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} of {n_all} rows of 'pos' are not finite")
    hit_id = np.arange(n_all, dtype=np.int64) if hit_id is None else _column("hit_id", hit_id, n_all)
    if np.unique(hit_id).size != n_all:
        raise ValueError(f"Expected unique 'hit_id' (got {n_all - np.unique(hit_id).size} repeated)")
    if particle_id is not None:
        particle_id = _column("particle_id", particle_id, n_all)
    row_m = track_m = None
    if candidates is not None:
        row_m = _candidate_rows(candidates, hit_id)
        track_m = np.asarray(candidates.track_id, dtype=np.int64)

    keep = _subsample(n_all, max_hits, seed)
    if keep is not None:
        pos = pos[keep]
        if particle_id is not None:
            particle_id = particle_id[keep]
        if row_m is not None:
            new_row = np.full(n_all, -1, dtype=np.int64)
            new_row[keep] = np.arange(len(keep))
            row_m = new_row[row_m]
            track_m = track_m[row_m >= 0]
            row_m = row_m[row_m >= 0]
    n = pos.shape[0]
    xyzr = np.column_stack([pos, np.hypot(pos[:, 0], pos[:, 1])])
    size = float(np.clip(2.0e4 / max(n, 1), 0.3, 16.0))

    rows = []
    if candidates is not None:
        rows.append("candidates")
    if particle_id is not None:
        rows.append("particles")
    if figsize is None:
        figsize = (12.0, 5.2 * max(len(rows), 1))
    fig = new_figure(figsize)
    axes = fig.subplots(max(len(rows), 1), 2, squeeze=False, width_ratios=[1.0, 1.6])
    for (ax_xy, ax_rz), row in zip(axes, rows or ["hits"], strict=True):
        if row == "candidates":
            n_groups, n_shared, n_free = _draw_row(
                ax_xy,
                ax_rz,
                xyzr,
                row_m,
                track_m,
                seed=seed,
                size=size,
                lines=lines,
                unassigned_label="unassigned",
                mark_shared=True,
            )
            ax_xy.set_title(f"Track candidates: {n_groups} tracks", fontsize=10)
            ax_rz.set_title(f"{n_shared} shared hits, {n_free} unassigned of {n}", fontsize=10)
        elif row == "particles":
            real = np.flatnonzero(particle_id != 0)
            n_groups, _, n_free = _draw_row(
                ax_xy,
                ax_rz,
                xyzr,
                real,
                particle_id[real],
                seed=seed,
                size=size,
                lines=lines,
                unassigned_label="noise",
                mark_shared=False,
            )
            ax_xy.set_title(f"Truth: {n_groups} particles", fontsize=10)
            ax_rz.set_title(f"{n_free} noise hits of {n}", fontsize=10)
        else:
            for ax, i, k in ((ax_xy, 0, 1), (ax_rz, 2, 3)):
                ax.plot(
                    xyzr[:, i],
                    xyzr[:, k],
                    linestyle="",
                    marker="o",
                    markersize=np.sqrt(size),
                    markeredgewidth=0,
                    color="0.2",
                )
            ax_xy.set_title(f"{n} hits", fontsize=10)
        _style_axes(ax_xy, ax_rz)
    heading = [title] if title else []
    if keep is not None:
        heading.append(f"(showing {n} of {n_all} hits, sampled with seed {seed})")
    if heading:
        fig.suptitle(" ".join(heading))
    return fig


def plot_event_display(
    pos: np.ndarray | torch.Tensor,
    path: str | Path,
    *,
    candidates: TrackCandidates | None = None,
    hit_id: np.ndarray | torch.Tensor | None = None,
    particle_id: np.ndarray | torch.Tensor | None = None,
    title: str | None = None,
    max_hits: int | None = None,
    seed: int = 0,
    lines: bool = True,
    figsize: tuple[float, float] | None = None,
    dpi: int = 150,
) -> Path:
    """Draw the hits of one event in x-y and r-z (``r = sqrt(x^2 + y^2)``) and save the display as PNG.

    With ``candidates`` the hits are coloured by track (a shuffled, seeded categorical palette,
    see :func:`categorical_colors`), each track's hits joined in order of distance from the
    origin; unassigned hits are small and grey and shared hits (in more than one track) are
    circled by a black diamond. With ``particle_id`` a row coloured by true particle follows
    (noise, ``particle_id == 0``, grey) for comparison. With neither, the hits are drawn plain.

    Args:
        pos: hit positions x, y, z in mm (numpy or any-device torch).
        path: output ``.png`` (parent folders created).
        candidates: track candidates whose ``hit_id`` refers to ``hit_id``.
        hit_id: id of each row of ``pos``; ``0..N-1`` when None.
        particle_id: true particle of each row of ``pos``, 0 for noise.
        title: figure title.
        max_hits: draw at most this many hits, a uniform random subset chosen with ``seed``
            (the same for the same inputs).
        seed: seed of the palette shuffle and of the subsample.
        lines: join the hits of each track / particle.
        figsize: figure size in inches; ``(12, 5.2 * rows)`` when None.
        dpi: resolution of the PNG.

    Returns:
        ``path`` as a Path.

    Shapes:
        pos: (N, 3); hit_id, particle_id: (N,); candidates: (M,) memberships.

    Raises:
        ValueError: ``pos`` not (N, 3) or not finite, ``hit_id`` / ``particle_id`` not (N,)
            integers, repeated hit ids, candidate hit ids missing from ``hit_id`` (with how many),
            ``max_hits < 1`` or a path that is not ``.png``.
    """
    fig = _event_display_figure(
        pos,
        candidates=candidates,
        hit_id=hit_id,
        particle_id=particle_id,
        title=title,
        max_hits=max_hits,
        seed=seed,
        lines=lines,
        figsize=figsize,
    )
    return save_png(fig, path, dpi)
