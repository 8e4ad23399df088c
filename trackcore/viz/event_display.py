"""Event display: hits in x-y and r-z, coloured by track candidate and, for comparison, by true particle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from trackcore.candidates import as_numpy
from trackcore.viz._figure import dataset_text, hep_axes, new_figure, save_png
from trackcore.viz.event_marks import EventMarks, draw_marks, event_marks
from trackcore.viz.palette import FAKE_COLOR, UNASSIGNED_COLOR, color_index, palette

if TYPE_CHECKING:
    import torch

    from trackcore.candidates import TrackCandidates
    from trackcore.metrics import TrackingEvaluation

__all__ = ["UNASSIGNED_COLOR", "plot_event_display"]

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
    fake_m: np.ndarray | None = None,
) -> tuple[int, int, int, list[Line2D]]:
    """Draw the hits of one colouring (memberships ``row_m -> group_m``) in both panels.

    Groups with a membership in ``fake_m`` are drawn in :data:`FAKE_COLOR` with dashed lines.
    Returns the number of groups, of shared rows (in > 1 group), of rows in no group, and the
    legend handles.
    """
    n = len(xyzr)
    groups, rank_m = np.unique(group_m, return_inverse=True)
    colors = np.concatenate([palette(), [to_rgba(FAKE_COLOR)]])
    fake_g = np.zeros(len(groups), bool) if fake_m is None else np.bincount(rank_m[fake_m], minlength=len(groups)) > 0
    color_g = np.where(fake_g, len(colors) - 1, color_index(len(groups), seed))
    color_m = color_g[rank_m]
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
            fake_line = fake_g[rank_m[order[np.r_[0, starts]]]]
            ax.add_collection(
                LineCollection(
                    np.split(pts, starts),
                    colors=colors[color_m[order[np.r_[0, starts]]]],
                    linewidths=np.where(fake_line, 1.2, 0.6),
                    linestyles=["--" if f else "-" for f in fake_line],
                    alpha=0.6,
                    zorder=2,
                ),
                autolim=False,
            )
        for c in np.unique(color_m):
            pts = xyzr[row_m[color_m == c]][:, [i, k]]
            ax.plot(pts[:, 0], pts[:, 1], **marker, markersize=np.sqrt(size), color=colors[c], zorder=3)
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
    return len(groups), int(shared.sum()), int(free.sum()), handles


def _style_axes(ax_xy: Axes, ax_rz: Axes) -> None:
    # no minor ticks: a display is a picture, not a measurement, and they double its drawing time
    hep_axes(ax_xy, xlabel="x [mm]", ylabel="y [mm]", minor=None)
    ax_xy.set_aspect("equal", adjustable="datalim")
    hep_axes(ax_rz, xlabel="z [mm]", ylabel="r [mm]", minor=None)
    ax_rz.set_ylim(bottom=0.0)
    for ax in (ax_xy, ax_rz):
        ax.grid(True, alpha=0.2)


def _marks_titles(n_groups: int, n_shared: int, n_free: int, n: int, marks: EventMarks | None) -> tuple[str, str]:
    """Titles of the candidates row: tracks (and fakes), then hits (and missed particles, foreign hits)."""
    if marks is None:
        return f"Track candidates: {n_groups} tracks", f"{n_shared} shared hits, {n_free} unassigned of {n}"
    return (
        f"Track candidates: {n_groups} tracks, {marks.n_fake} fake of {marks.n_considered}",
        f"{n_shared} shared hits, {n_free} unassigned of {n}\n{marks.n_missed} of {marks.n_poi} particles of "
        f"interest missed, {marks.n_foreign} hits of another particle in matched tracks",
    )


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
    evaluation: TrackingEvaluation | None = None,
    scheme: str = "dm",
    dataset: str | None = None,
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
    if evaluation is not None and (candidates is None or particle_id is None):
        raise ValueError("'evaluation' marks fakes, missed particles and foreign hits: it needs 'candidates' and "
                         "'particle_id' too")
    row_m = track_m = marks = None
    if candidates is not None:
        row_m = _candidate_rows(candidates, hit_id)
        track_m = np.asarray(candidates.track_id, dtype=np.int64)
        if evaluation is not None:
            marks = event_marks(evaluation, track_m, row_m, particle_id, scheme=scheme)

    keep = _subsample(n_all, max_hits, seed)
    if keep is not None:
        pos = pos[keep]
        if particle_id is not None:
            particle_id = particle_id[keep]
        if row_m is not None:
            new_row = np.full(n_all, -1, dtype=np.int64)
            new_row[keep] = np.arange(len(keep))
            row_m = new_row[row_m]
            kept_m = row_m >= 0
            track_m, row_m = track_m[kept_m], row_m[kept_m]
            if marks is not None:
                marks = marks.subset(kept_m, keep)
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
            n_groups, n_shared, n_free, handles = _draw_row(
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
                fake_m=None if marks is None else marks.fake_m,
            )
            if marks is not None:
                handles += draw_marks(ax_xy, ax_rz, xyzr, row_m, particle_id, marks, size=size)
            xy_title, rz_title = _marks_titles(n_groups, n_shared, n_free, n, marks)
            ax_xy.set_title(xy_title, fontsize=10)
            ax_rz.set_title(rz_title, fontsize=10)
            # outside, right of r-z: inside, five entries would hide the hits they explain
            ax_rz.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, borderaxespad=0)
        elif row == "particles":
            real = np.flatnonzero(particle_id != 0)
            n_groups, _, n_free, handles = _draw_row(
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
            ax_rz.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, borderaxespad=0)
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
    heading = [dataset_text(dataset) + (" |" if title else "")] if dataset else []
    heading += [title] if title else []
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
    evaluation: TrackingEvaluation | None = None,
    scheme: str = "dm",
    title: str | None = None,
    dataset: str | None = None,
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

    With ``evaluation`` (of these candidates on this event) the candidates row also shows how
    they match the truth (``scheme``, as the metrics count): fake candidates in red with dashed
    lines, the hits of missed particles of interest ringed and joined by a dotted line, and the
    hits a matched candidate took from another particle or from noise crossed; the legend names
    each mark with its count, and the titles give the counts over the whole event.

    Args:
        pos: hit positions x, y, z in mm (numpy or any-device torch).
        path: output ``.png`` (parent folders created).
        candidates: track candidates whose ``hit_id`` refers to ``hit_id``.
        hit_id: id of each row of ``pos``; ``0..N-1`` when None.
        particle_id: true particle of each row of ``pos``, 0 for noise.
        evaluation: :func:`~trackcore.metrics.evaluate_tracks` of ``candidates`` on this event
            (needs ``candidates`` and ``particle_id``).
        scheme: the matching of the marks: ``dm``, ``lhc`` or ``perfect``.
        title: figure title.
        dataset: the data set, named (after a bold ``trackcore``) at the head of the figure title.
        max_hits: draw at most this many hits, a uniform random subset chosen with ``seed``
            (the same for the same inputs); the marks' counts stay those of the whole event.
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
            ``max_hits < 1``, an ``evaluation`` without candidates or particle ids or of other
            candidates or another event, or a path that is not ``.png``.
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
        evaluation=evaluation,
        scheme=scheme,
        dataset=dataset,
    )
    return save_png(fig, path, dpi)
