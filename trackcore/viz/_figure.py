"""Figures without pyplot: an Agg canvas per figure, so nothing is left in pyplot's global state.

The HEP look (as mplhep's experiment styles: ticks inside on all four sides, minor ticks, axis
labels at the axis ends, a label naming the data set above the axes) is applied per axes by
:func:`hep_axes` and :func:`dataset_label`, never through global ``rcParams``. mplhep itself is not
used: it imports pyplot (global figure state) and adds ~1 s of import time and 18 MB of fonts.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from trackcore.data.atomic import atomic_write

#: The bold word of the data-set label, where an experiment's name goes in mplhep's styles.
LABEL_HEAD = "trackcore"


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure bound to its own Agg canvas (never registered with pyplot, freed with its last reference)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def hep_axes(
    ax: Axes, *, xlabel: str | None = None, ylabel: str | None = None, minor: str | None = "both"
) -> None:
    """Give ``ax`` the HEP look: ticks inside on all four sides, minor ticks, labels at the axis ends.

    Args:
        ax: the axes, drawn (scales set) before the call, so that minor ticks follow a log scale.
        xlabel, ylabel: axis labels, placed at the right end of x and the top end of y.
        minor: axes that get minor ticks: ``"both"``, ``"x"``, ``"y"`` or None (categorical axes).
    """
    if minor not in ("both", "x", "y", None):
        raise ValueError(f"Expected minor in ('both', 'x', 'y', None) (got {minor!r})")
    ax.tick_params(which="both", direction="in", top=True, right=True)
    if minor in ("both", "x"):
        ax.xaxis.minorticks_on()
    if minor in ("both", "y"):
        ax.yaxis.minorticks_on()
    if xlabel is not None:
        ax.set_xlabel(xlabel, loc="right")
    if ylabel is not None:
        ax.set_ylabel(ylabel, loc="top")


def dataset_text(dataset: str) -> str:
    """``trackcore <dataset>`` with the head in bold (mathtext), ``$`` in the name escaped."""
    return rf"$\bf{{{LABEL_HEAD}}}$ " + dataset.replace("$", r"\$")


def dataset_label(ax: Axes, dataset: str | None) -> None:
    """Name the data set above the left end of ``ax`` (the left title), as mplhep's ``exp_label``."""
    if dataset:
        ax.set_title(dataset_text(dataset), loc="left", fontsize=10)


def save_png(fig: Figure, path: str | Path, dpi: int) -> Path:
    """Write ``fig`` as PNG to ``path`` (parents created, atomically: a failed draw leaves no file) and
    return the path.

    Raises:
        ValueError: ``path`` does not end in ``.png`` or ``dpi`` is not positive.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"Expected a '.png' path (got '{path}')")
    if dpi <= 0:
        raise ValueError(f"Expected dpi > 0 (got {dpi})")
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda f: fig.savefig(f, dpi=dpi, format="png"))
