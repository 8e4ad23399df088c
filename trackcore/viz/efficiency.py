"""Binned rates (efficiency vs pT, eta, ...) of several trackers overlaid, with Clopper-Pearson error bars."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from trackcore.viz._figure import new_figure, save_png

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


def _binned_rates_figure(
    curves: Mapping[str, BinnedRate],
    *,
    ylabel: str,
    xlabel: str | None,
    title: str | None,
    logx: bool | None,
    ylim: tuple[float, float] | None,
    figsize: tuple[float, float],
) -> Figure:
    if not curves:
        raise ValueError("Expected at least one curve (got an empty mapping)")
    variables = sorted({c.variable for c in curves.values()})
    if len(variables) > 1:
        raise ValueError(f"Expected all curves binned in one variable (got {variables})")
    variable = variables[0]
    if logx is None:
        logx = variable == "pt"

    fig = new_figure(figsize)
    ax = fig.add_subplot()
    top = 0.0
    for i, (name, rate) in enumerate(curves.items()):
        arr = errorbar_arrays(rate, log=logx)
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
        if arr["y"].size:
            top = max(top, float(np.max(arr["y"] + arr["yerr"][1])))
    if logx:
        ax.set_xscale("log")
    if ylim is None:
        # Efficiencies are read against 1; small rates (fakes, duplicates) get room to be seen.
        ylim = (0.0, min(1.05, 1.15 * top) if top > 0 else 1.05)
    ax.set_ylim(*ylim)
    if ylim[0] <= 1.0 <= ylim[1]:
        ax.axhline(1.0, color="0.6", linestyle="--", linewidth=0.8)
    ax.set_xlabel(xlabel if xlabel is not None else VARIABLE_LABELS.get(variable, variable))
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best")
    if title is not None:
        ax.set_title(title)
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
    figsize: tuple[float, float] = (6.4, 4.8),
    dpi: int = 150,
) -> Path:
    """Overlay binned rates of several trackers (one curve each) and save the plot as PNG.

    Each non-empty bin is a point at the bin centre with an x error bar spanning the bin and an
    asymmetric y error bar from the Clopper-Pearson ``lower`` to ``upper``; bins with
    ``total == 0`` are not drawn (see :func:`errorbar_arrays`).

    Args:
        curves: legend label -> binned rate, e.g. ``{"EC": eff_ec, "OC": eff_oc}``; all in one variable.
        path: output ``.png`` (parent folders created).
        ylabel: y axis label.
        xlabel: x axis label; from the variable when None (``pt`` -> ``$p_T$ [GeV]``, ``eta`` -> ``$\\eta$``).
        title: axes title.
        logx: log x axis; True for ``pt`` and False otherwise when None.
        ylim: y range; ``(0, min(1.05, 1.15 * highest upper bound))`` when None.
        figsize: figure size in inches.
        dpi: resolution of the PNG.

    Returns:
        ``path`` as a Path.

    Shapes:
        each curve: edges (B_c + 1,), passed/total (B_c,); curves may have different bins.

    Raises:
        ValueError: no curve, curves binned in different variables, a log axis with a
            non-positive edge, or a path that is not ``.png``.
    """
    fig = _binned_rates_figure(curves, ylabel=ylabel, xlabel=xlabel, title=title, logx=logx, ylim=ylim, figsize=figsize)
    return save_png(fig, path, dpi)
