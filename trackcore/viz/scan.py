"""A builder scan's objective over its two-parameter grid, as an annotated heatmap."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from trackcore.viz._figure import new_figure, save_png

if TYPE_CHECKING:
    from trackcore.build.scan import BuilderScan


def plot_scan(
    scan: BuilderScan, path: str | Path, *, title: str = "", value: str = "objective", dpi: int = 120
) -> Path:
    """Heatmap of ``scan.table[value]`` over the scan's two parameters (first on x), best setting boxed.

    Raises:
        ValueError: the scan does not have exactly two parameters, or no column ``value``.
    """
    if len(scan.params) != 2:
        raise ValueError(f"plot_scan draws two-parameter scans (got {scan.params})")
    if value not in scan.table:
        raise ValueError(f"the scan table has no column {value!r}")
    x_name, y_name = scan.params
    grid = scan.table.pivot(index=y_name, columns=x_name, values=value)
    z = grid.to_numpy(float)
    fig = new_figure((1.6 + 0.75 * z.shape[1], 1.4 + 0.45 * z.shape[0]))
    ax = fig.add_subplot()
    image = ax.imshow(z, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(z.shape[1]), [f"{v:g}" for v in grid.columns])
    ax.set_yticks(range(z.shape[0]), [f"{v:g}" for v in grid.index])
    for (i, j), v in np.ndenumerate(z):
        ax.text(j, i, f"{v:.3f}" if np.isfinite(v) else "nan", ha="center", va="center", fontsize=7, color="w")
    bi = list(grid.index).index(scan.best_params[y_name])
    bj = list(grid.columns).index(scan.best_params[x_name])
    ax.add_patch(_box(bj, bi))
    ax.set_xlabel(x_name)
    ax.set_ylabel(y_name)
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, label="DM efficiency - DM fake rate" if value == "objective" else value)
    return save_png(fig, path, dpi)


def _box(j: int, i: int):  # noqa: ANN202 (a matplotlib patch)
    from matplotlib.patches import Rectangle

    return Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2)
