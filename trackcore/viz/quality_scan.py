"""The learned quality cut's threshold scan: DM efficiency against DM fake rate, one point per threshold."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trackcore.viz._figure import dataset_label, hep_axes, new_figure, save_png


def plot_quality_scan(frame: pd.DataFrame, path: str | Path, *, min_pt: float = 1.0, dataset: str | None = None,
                      dpi: int = 120) -> Path:
    """Efficiency against fake rate of ``trackcore quality scan``'s rows, each point labelled by its threshold.

    Args:
        frame: one row per threshold: ``max_fake_prob``, ``dm_efficiency``, ``dm_fake_rate`` (fractions).
        path: the PNG written (atomically).
        min_pt: the particles of interest's pT floor, for the axis label (GeV).
        dataset: named above the axes.

    Raises:
        ValueError: a column missing.
    """
    missing = {"max_fake_prob", "dm_efficiency", "dm_fake_rate"} - set(frame.columns)
    if missing:
        raise ValueError(f"plot_quality_scan: the scan table lacks column(s) {sorted(missing)}")
    fig = new_figure((5, 4))
    ax = fig.add_subplot()
    ax.plot(100 * frame["dm_fake_rate"], 100 * frame["dm_efficiency"], "o-")
    for _, r in frame.iterrows():
        ax.annotate(f"{r['max_fake_prob']:g}", (100 * r["dm_fake_rate"], 100 * r["dm_efficiency"]), fontsize=7)
    hep_axes(ax, xlabel="DM fake rate (%)", ylabel=f"DM efficiency, pT > {min_pt:g} GeV (%)")
    dataset_label(ax, dataset)
    return save_png(fig, path, dpi)
