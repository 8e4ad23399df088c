"""Headline rates (efficiencies, fake and duplicate rates) of several trackers side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from trackcore.viz._figure import dataset_label, hep_axes, new_figure, save_png

#: The rates :func:`plot_rate_summary` shows by default, in this order.
SUMMARY_KEYS = ("dm_efficiency", "lhc_efficiency", "perfect_efficiency", "dm_fake_rate", "dm_duplicate_rate")

#: Group label of each known metric; other keys are labelled by their name.
METRIC_LABELS = {
    "dm_efficiency": "DM\nefficiency",
    "lhc_efficiency": "LHC\nefficiency",
    "perfect_efficiency": "perfect\nefficiency",
    "dm_fake_rate": "DM\nfake rate",
    "dm_duplicate_rate": "DM\nduplicate rate",
}


def summary_values(summaries: Mapping[str, Mapping[str, float]], keys: Sequence[str] = SUMMARY_KEYS) -> np.ndarray:
    """The rates of each tracker in percent, NaN where a tracker does not report one.

    A key that is absent, None or NaN counts as not reported (drawn as an absent bar, never as 0).

    Args:
        summaries: tracker name -> metric name -> rate as a fraction in [0, 1].
        keys: metrics to collect.

    Shapes:
        return: (T, K) float, T trackers in the mapping's order, K keys.

    Raises:
        ValueError: a reported value that is not a real number.
    """
    out = np.full((len(summaries), len(keys)), np.nan)
    for t, (name, summary) in enumerate(summaries.items()):
        for k, key in enumerate(keys):
            value = summary.get(key)
            if value is None:
                continue
            try:
                if isinstance(value, (bool, str, bytes)):
                    raise TypeError
                out[t, k] = 100.0 * float(value)
            except (TypeError, ValueError):
                raise ValueError(f"Expected a number for summaries[{name!r}][{key!r}] (got {value!r})") from None
    return out


def _rate_summary_figure(
    summaries: Mapping[str, Mapping[str, float]],
    *,
    keys: Sequence[str],
    title: str | None,
    figsize: tuple[float, float] | None,
    dataset: str | None = None,
) -> Figure:
    if not summaries:
        raise ValueError("Expected at least one tracker summary (got an empty mapping)")
    keys = tuple(keys)
    if not keys:
        raise ValueError("Expected at least one metric key (got none)")
    values = summary_values(summaries, keys)
    names = list(summaries)
    n_t, n_k = values.shape
    if figsize is None:
        figsize = (max(6.4, 1.1 + n_k * (0.5 + 0.45 * n_t)), 4.8)

    fig = new_figure(figsize)
    ax = fig.add_subplot()
    width = 0.8 / n_t
    groups = np.arange(n_k, dtype=float)
    top = np.nanmax(values) if np.isfinite(values).any() else 100.0
    vertical = n_t > 3
    for t, name in enumerate(names):
        x = groups + (t - (n_t - 1) / 2) * width
        ok = np.isfinite(values[t])
        bars = ax.bar(x[ok], values[t, ok], width=width * 0.95, color=f"C{t}", label=name)
        ax.bar_label(bars, fmt="%.1f", padding=2, fontsize=7, rotation=90 if vertical else 0)
        for xm in x[~ok]:
            ax.text(
                xm, 0.01 * top, "n/a", ha="center", va="bottom", rotation=90, fontsize=7, color="0.4", style="italic"
            )
    ax.set_xticks(groups, [METRIC_LABELS.get(k, k) for k in keys])
    ax.set_xlim(-0.5, n_k - 0.5)
    ax.set_ylim(0.0, max(1.0, top) * (1.25 if vertical else 1.15))
    hep_axes(ax, ylabel="Rate [%]", minor="y")
    ax.tick_params(axis="x", which="both", top=False, bottom=False)  # categories: no x ticks
    ax.grid(True, axis="y", alpha=0.3)
    fig.legend(loc="outside upper right", fontsize=8, ncols=min(n_t, 6))
    missing = [
        f"{names[t]}: {', '.join(keys[k] for k in np.flatnonzero(~np.isfinite(values[t])))}"
        for t in range(n_t)
        if not np.isfinite(values[t]).all()
    ]
    if missing:
        # supxlabel, unlike fig.text, gets room from the constrained layout.
        fig.supxlabel("n/a = not reported (" + "; ".join(missing) + ")", x=0.01, ha="left", fontsize=7, color="0.3")
    dataset_label(ax, dataset)
    if title is not None:
        ax.set_title(title, loc="right", fontsize=9)
    return fig


def plot_rate_summary(
    summaries: Mapping[str, Mapping[str, float]],
    path: str | Path,
    *,
    keys: Sequence[str] = SUMMARY_KEYS,
    title: str | None = None,
    dataset: str | None = None,
    figsize: tuple[float, float] | None = None,
    dpi: int = 150,
) -> Path:
    """Grouped bar chart of headline rates (one group per metric, one bar per tracker), saved as PNG.

    Values are shown in percent and printed on their bars; a metric a tracker does not report
    (absent, None or NaN) is an absent bar marked ``n/a``, listed in a note under the axes.

    Args:
        summaries: tracker name -> metric name -> rate as a fraction, e.g.
            ``{"EC": {"dm_efficiency": 0.93, ...}, "OC": {...}}``; other entries are ignored.
        path: output ``.png`` (parent folders created).
        keys: metrics to show, in order.
        title: title, above the right end of the axes.
        dataset: the data set, named above the left end of the axes after a bold ``trackcore``.
        figsize: figure size in inches; grows with the number of bars when None.
        dpi: resolution of the PNG.

    Returns:
        ``path`` as a Path.

    Shapes:
        summaries: T trackers; keys: K metrics; T * K bar slots.

    Raises:
        ValueError: no tracker, no key, a value that is not a number, or a path that is not ``.png``.
    """
    fig = _rate_summary_figure(summaries, keys=keys, title=title, figsize=figsize, dataset=dataset)
    return save_png(fig, path, dpi)
