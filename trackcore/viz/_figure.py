"""Figures without pyplot: an Agg canvas per figure, so nothing is left in pyplot's global state."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure bound to its own Agg canvas (never registered with pyplot, freed with its last reference)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str | Path, dpi: int) -> Path:
    """Write ``fig`` as PNG to ``path`` (parents created) and return the path.

    Raises:
        ValueError: ``path`` does not end in ``.png`` or ``dpi`` is not positive.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"Expected a '.png' path (got '{path}')")
    if dpi <= 0:
        raise ValueError(f"Expected dpi > 0 (got {dpi})")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, format="png")
    return path
