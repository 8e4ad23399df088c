"""A builder scan's objective over its two-parameter grid, as an annotated heatmap.

A blank cell is a setting whose value is undefined (NaN), hatched and marked ``n/a``, with the
reason under the figure. The scan's objective, DM efficiency minus DM fake rate, is NaN when the
setting made no track candidate counted by the fake rate (none with ``min_candidate_hits`` hits
or more: the fake rate is 0 / 0), or when the events hold no particle of interest (the efficiency
is 0 / 0); a grid point with no row in the table was not scanned.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from trackcore.viz._figure import dataset_label, hep_axes, new_figure, save_png

if TYPE_CHECKING:
    from trackcore.builders.scan import BuilderScan

#: Why a cell is blank, by the first test that holds (see :func:`blank_reasons`).
BLANK_REASONS = {
    "not scanned": "no result for this setting in the scan table",
    "no candidates": "the setting made no track candidate counted by the fake rate (>= min_candidate_hits hits, 3 by "
                     "default): fake rate 0/0",
    "no particles": "no particle of interest in the events: efficiency 0/0",
    "undefined": "the value is not a number",
}


def blank_reasons(scan: BuilderScan, value: str = "objective") -> pd.DataFrame:
    """Why each cell of the heatmap is blank: a key of :data:`BLANK_REASONS`, or "" for a number.

    Returns:
        the grid (rows: second parameter, columns: first) of reasons, as :func:`plot_scan` draws it.

    Raises:
        ValueError: the scan does not have exactly two parameters, no column ``value``, or two
            rows of the table with the same setting.
    """
    if len(scan.params) != 2:
        raise ValueError(f"plot_scan draws two-parameter scans (got {scan.params})")
    if value not in scan.table:
        raise ValueError(f"the scan table has no column {value!r}")
    x_name, y_name = scan.params
    table = scan.table
    repeated = table.duplicated([x_name, y_name])
    if repeated.any():
        row = table[repeated].iloc[0]
        raise ValueError(f"the scan table has {int(repeated.sum())} repeated setting(s) (e.g. {x_name}={row[x_name]}, "
                         f"{y_name}={row[y_name]})")

    def grid(column: str) -> pd.DataFrame:
        return table.pivot(index=y_name, columns=x_name, values=column)

    z = grid(value).to_numpy(float)
    present = table.assign(_present=1.0).pivot(index=y_name, columns=x_name, values="_present").notna().to_numpy()
    reasons = np.where(np.isfinite(z), "", "undefined").astype(object)
    for column, reason in (("n_particles", "no particles"), ("n_candidates", "no candidates")):
        if column in table:
            reasons[~np.isfinite(z) & (grid(column).to_numpy(float) == 0)] = reason
    reasons[~present] = "not scanned"
    index = grid(value)
    return pd.DataFrame(reasons, index=index.index, columns=index.columns)


def plot_scan(
    scan: BuilderScan,
    path: str | Path,
    *,
    title: str = "",
    value: str = "objective",
    dataset: str | None = None,
    dpi: int = 120,
) -> Path:
    """Heatmap of ``scan.table[value]`` over the scan's two parameters (first on x), best setting boxed.

    Blank cells (the value is NaN, or the setting is not in the table) are hatched and marked
    ``n/a``; a note under the axes says why (:data:`BLANK_REASONS`) and how many cells each
    reason blanks.

    Args:
        scan: a two-parameter scan.
        path: output ``.png`` (parent folders created).
        title: title, above the right end of the axes.
        value: the table column to draw.
        dataset: the data set, named above the left end of the axes after a bold ``trackcore``.
        dpi: resolution of the PNG.

    Raises:
        ValueError: the scan does not have exactly two parameters, no column ``value``, repeated
            settings, or a path that is not ``.png``.
    """
    reasons = blank_reasons(scan, value)
    x_name, y_name = scan.params
    grid = scan.table.pivot(index=y_name, columns=x_name, values=value).reindex(
        index=reasons.index, columns=reasons.columns
    )
    z = grid.to_numpy(float)
    blank = reasons.to_numpy() != ""
    fig = new_figure((2.2 + 0.75 * z.shape[1], 1.9 + 0.45 * z.shape[0]))
    ax = fig.add_subplot()
    image = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(z.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(z.shape[0]), [f"{v:g}" for v in grid.index])
    for (i, j), v in np.ndenumerate(z):
        if blank[i, j]:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="0.65",
                                   linewidth=0))
            ax.text(j, i, "n/a", ha="center", va="center", fontsize=7, color="0.2", style="italic",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        else:
            ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=7, color="w")
    bi = list(grid.index).index(scan.best_params[y_name])
    bj = list(grid.columns).index(scan.best_params[x_name])
    ax.add_patch(_box(bj, bi))
    hep_axes(ax, xlabel=x_name, ylabel=y_name, minor=None)
    dataset_label(ax, dataset)
    if title:
        ax.set_title(title, loc="right", fontsize=9)
    fig.colorbar(image, ax=ax, label="DM efficiency - DM fake rate" if value == "objective" else value)
    counts = pd.Series(reasons.to_numpy().ravel()).value_counts()
    notes = [f"{counts[r]} cell{'s' if counts[r] > 1 else ''}: {text}" for r, text in BLANK_REASONS.items()
             if r in counts]
    if notes:
        fig.supxlabel("n/a (hatched) = " + "; ".join(notes) + "; red box: best setting", x=0.01, ha="left",
                      fontsize=7, color="0.3", wrap=True)
    return save_png(fig, path, dpi)


def _box(j: int, i: int) -> Rectangle:
    return Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2)
