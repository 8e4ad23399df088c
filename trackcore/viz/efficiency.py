"""Binned rates (efficiency vs pT, eta, ...) of several trackers overlaid, with Clopper-Pearson error bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter

from trackcore.viz._figure import dataset_label, hep_axes, new_figure, save_png

if TYPE_CHECKING:
    from trackcore.metrics.binning import BinnedRate

#: Axis label of each binned variable; other variables are labelled by their name.
VARIABLE_LABELS = {"pt": r"$p_T$ [GeV]", "eta": r"$\eta$", "phi": r"$\phi$"}

_MARKERS = ("o", "s", "^", "v", "D", "P", "X", "<", ">")


def errorbar_arrays(rate: BinnedRate, *, log: bool = False) -> dict[str, np.ndarray]:
    """What :func:`plot_binned_rates` draws for one curve: the non-empty bins, their rates and error bars.

    Args:
        rate: binned rate with Clopper-Pearson bounds.
        log: place each point at the geometric bin centre (centred on a log axis) instead of the
            arithmetic one.

    Returns:
        ``x``, ``y`` (the rate), ``xerr`` (distances from ``x`` to the bin edges), ``yerr``
        (``rate - lower`` and ``upper - rate``), ``passed`` and ``total``, for the ``K`` bins with
        ``total > 0``.

    Shapes:
        rate.edges: (B + 1,); x, y, passed, total: (K,); xerr, yerr: (2, K), K <= B.

    Raises:
        ValueError: edges that do not match the counts, or ``log`` with a non-positive edge.
    """
    edges = np.asarray(rate.edges, dtype=float)
    total = np.asarray(rate.total)
    if edges.ndim != 1 or edges.shape[0] != total.shape[0] + 1:
        raise ValueError(f"Expected {total.shape[0] + 1} bin edges for {total.shape[0]} bins (got {edges.shape[0]})")
    keep = total > 0
    lo, hi = edges[:-1][keep], edges[1:][keep]
    if log:
        if np.any(edges <= 0):
            raise ValueError(f"A log axis needs positive bin edges (got {edges.min():g} for '{rate.variable}')")
        x = np.sqrt(lo * hi)
    else:
        x = 0.5 * (lo + hi)
    y = np.asarray(rate.rate, dtype=float)[keep]
    lower = np.asarray(rate.lower, dtype=float)[keep]
    upper = np.asarray(rate.upper, dtype=float)[keep]
    return {
        "x": x,
        "y": y,
        "xerr": np.stack([x - lo, hi - x]),
        # max(., 0) only absorbs rounding: a Clopper-Pearson interval always contains the rate.
        "yerr": np.maximum(np.stack([y - lower, upper - y]), 0.0),
        "passed": np.asarray(rate.passed)[keep],
        "total": total[keep],
    }


def zoom_range(
    arrays: Sequence[Mapping[str, np.ndarray]], *, floor: float = 0.5, max_span: float = 0.5, min_span: float = 0.05
) -> tuple[float, float] | None:
    """The y range of the zoomed panel, chosen from the points: where the high rates lie.

    The range runs from the lowest point at or above ``floor``, less a tenth of the distance to
    the top, rounded down to 0.01, up to the highest upper error bound (at least 1 when a point
    reaches 0.995) plus the same margin. Points below ``floor`` (an efficiency's turn-on) are the
    ones left below the range; the figure marks and counts them.

    The range spans at least ``min_span``: points all near 1 are shown against 0.95-1, not blown
    up. Error bars that reach past the range are cut at its edges, as usual in HEP plots.

    Args:
        arrays: what :func:`errorbar_arrays` returns, one per curve.
        floor: points below it do not set the range.
        max_span: no zoom (None) when the range would span more than this: it would not magnify.
        min_span: the narrowest range.

    Returns:
        ``(bottom, top)``, or None when no point reaches ``floor`` or the range is too wide.
    """
    y = np.concatenate([np.asarray(a["y"], dtype=float) for a in arrays]) if arrays else np.zeros(0)
    high = y[y >= floor]
    if not high.size:
        return None
    upper = np.concatenate([np.asarray(a["y"]) + np.asarray(a["yerr"])[1] for a in arrays])
    top = float(np.max(upper))
    if np.max(high) >= 0.995:
        top = max(top, 1.0)
    low = float(np.min(high))
    margin = max(0.1 * (top - low), 0.005)
    top = top + margin
    bottom = max(0.0, np.floor(100 * min(low - margin, top - min_span)) / 100)
    return None if top - bottom > max_span else (float(bottom), top)


def _draw_curves(ax: Axes, curves: Mapping[str, BinnedRate], arrays: list[dict[str, np.ndarray]]) -> None:
    for i, (name, arr) in enumerate(zip(curves, arrays, strict=True)):
        ax.errorbar(
            arr["x"],
            arr["y"],
            xerr=arr["xerr"],
            yerr=arr["yerr"],
            fmt=_MARKERS[i % len(_MARKERS)],
            color=f"C{i}",
            markersize=5,
            capsize=2,
            linewidth=1.2,
            label=name,
        )


def _mark_below(ax: Axes, arrays: list[dict[str, np.ndarray]], bottom: float) -> int:
    """Draw each point below ``bottom`` as a down arrow on the panel's lower edge; returns their number."""
    n = 0
    for i, arr in enumerate(arrays):
        below = arr["y"] < bottom
        if below.any():
            ax.plot(arr["x"][below], np.full(int(below.sum()), bottom), linestyle="", marker=r"$\downarrow$",
                    color=f"C{i}", markersize=12, clip_on=False, zorder=5, label="_below")
            n += int(below.sum())
    if n:
        ax.text(0.01, 0.03, rf"$\downarrow$ {n} point{'s' if n > 1 else ''} below {bottom:.2f}: see the "
                "full range above", transform=ax.transAxes, fontsize=7, color="0.25", va="bottom")
    return n


def _binned_rates_figure(
    curves: Mapping[str, BinnedRate],
    *,
    ylabel: str,
    xlabel: str | None,
    title: str | None,
    logx: bool | None,
    ylim: tuple[float, float] | None,
    figsize: tuple[float, float] | None,
    zoom: bool | None = None,
    dataset: str | None = None,
) -> Figure:
    if not curves:
        raise ValueError("Expected at least one curve (got an empty mapping)")
    variables = sorted({c.variable for c in curves.values()})
    if len(variables) > 1:
        raise ValueError(f"Expected all curves binned in one variable (got {variables})")
    variable = variables[0]
    if logx is None:
        logx = variable == "pt"
    arrays = [errorbar_arrays(rate, log=logx) for rate in curves.values()]
    ys = [a["y"] + a["yerr"][1] for a in arrays if a["y"].size]
    top = float(max(np.max(y) for y in ys)) if ys else 0.0
    if ylim is None:
        # Efficiencies are read against 1; small rates (fakes, duplicates) get room to be seen.
        ylim = (0.0, min(1.05, 1.15 * top) if top > 0 else 1.05)
    zoomed = None if zoom is False or ylim[1] - ylim[0] < 0.5 else zoom_range(arrays)
    if zoom and zoomed is None:
        zoomed = zoom_range(arrays, max_span=np.inf)
    if figsize is None:
        figsize = (6.4, 7.6) if zoomed else (6.4, 4.8)

    fig = new_figure(figsize)
    axes = fig.subplots(2, 1, sharex=True, height_ratios=[1.0, 1.1]) if zoomed else [fig.add_subplot()]
    xlabel = xlabel if xlabel is not None else VARIABLE_LABELS.get(variable, variable)
    for ax, (bottom, top_y) in zip(axes, [ylim, zoomed] if zoomed else [ylim], strict=True):
        _draw_curves(ax, curves, arrays)
        if logx:
            ax.set_xscale("log")
            # plain numbers (0.5, 1, 2, 10), not 2 x 10^0
            ax.xaxis.set_major_formatter(LogFormatter())
            ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1, 0.4)))
        ax.set_ylim(bottom, top_y)
        if bottom <= 1.0 <= top_y:
            ax.axhline(1.0, color="0.6", linestyle="--", linewidth=0.8)
        ax.grid(True, which="major", alpha=0.3)
        hep_axes(ax, xlabel=xlabel, ylabel=ylabel if ax is axes[0] else f"{ylabel} (zoom)")
    if zoomed:
        axes[0].tick_params(which="both", labelbottom=True)
        _mark_below(axes[1], arrays, zoomed[0])
    axes[0].legend(loc="best")
    dataset_label(axes[0], dataset)
    if title is not None:
        axes[0].set_title(title, loc="right", fontsize=9)
    return fig


def plot_binned_rates(
    curves: Mapping[str, BinnedRate],
    path: str | Path,
    *,
    ylabel: str = "Efficiency",
    xlabel: str | None = None,
    title: str | None = None,
    logx: bool | None = None,
    ylim: tuple[float, float] | None = None,
    zoom: bool | None = None,
    dataset: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 150,
) -> Path:
    """Overlay binned rates of several trackers (one curve each) and save the plot as PNG.

    Each non-empty bin is a point at the bin centre with an x error bar spanning the bin and an
    asymmetric y error bar from the Clopper-Pearson ``lower`` to ``upper``; bins with
    ``total == 0`` are not drawn (see :func:`errorbar_arrays`).

    Rates near 1 (efficiencies) get a second, zoomed panel under the full one, its y range
    chosen from the points (:func:`zoom_range`); a point below that range (an efficiency's
    turn-on) is drawn as a down arrow on the zoomed panel's lower edge and counted there, so
    no point is hidden.

    Args:
        curves: legend label -> binned rate, e.g. ``{"EC": eff_ec, "OC": eff_oc}``; all in one variable.
        path: output ``.png`` (parent folders created).
        ylabel: y axis label.
        xlabel: x axis label; from the variable when None (``pt`` -> ``$p_T$ [GeV]``, ``eta`` -> ``$\\eta$``).
        title: title, above the right end of the (upper) axes.
        logx: log x axis; True for ``pt`` and False otherwise when None.
        ylim: y range of the full panel; ``(0, min(1.05, 1.15 * highest upper bound))`` when None.
        zoom: add the zoomed panel: when None, if the full panel spans at least 0.5 and a zoom would
            magnify at least twice; True forces it (when some point reaches 0.5), False never.
        dataset: the data set, named above the left end of the axes after a bold ``trackcore``.
        figsize: figure size in inches; ``(6.4, 4.8)``, or ``(6.4, 7.6)`` with the zoom, when None.
        dpi: resolution of the PNG.

    Returns:
        ``path`` as a Path.

    Shapes:
        each curve: edges (B_c + 1,), passed/total (B_c,); curves may have different bins.

    Raises:
        ValueError: no curve, curves binned in different variables, a log axis with a
            non-positive edge, or a path that is not ``.png``.
    """
    fig = _binned_rates_figure(curves, ylabel=ylabel, xlabel=xlabel, title=title, logx=logx, ylim=ylim,
                               figsize=figsize, zoom=zoom, dataset=dataset)
    return save_png(fig, path, dpi)
