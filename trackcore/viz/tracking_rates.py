"""The standard tracking plots of one or several trackers, overlaid: what ``trackcore evaluate`` and
``trackcore compare`` both write."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from trackcore.viz.efficiency import plot_binned_rates
from trackcore.viz.summary import plot_rate_summary

if TYPE_CHECKING:
    from trackcore.metrics import TrackingEvaluation


def plot_tracking_rates(evaluations: Mapping[str, TrackingEvaluation], out: str | Path, *, min_pt: float) -> list[Path]:
    """DM efficiency vs pT and vs eta, DM fake rate vs eta, and the headline rates, one curve (bar)
    per tracker: ``efficiency_pt.png``, ``efficiency_eta.png``, ``fake_rate_eta.png``, ``summary.png``
    in ``out``.

    Args:
        evaluations: tracker name -> its pooled evaluation.
        min_pt: the pT cut of the particles of interest (named in the eta plot's title).
    """
    out = Path(out)
    return [
        plot_binned_rates({n: e.binned_efficiency("pt") for n, e in evaluations.items()}, out / "efficiency_pt.png",
                          title="DM efficiency vs pT"),
        plot_binned_rates({n: e.binned_efficiency("eta") for n, e in evaluations.items()},
                          out / "efficiency_eta.png", title=f"DM efficiency vs eta, pT > {min_pt:g} GeV"),
        plot_binned_rates({n: e.binned_fake_rate() for n, e in evaluations.items()}, out / "fake_rate_eta.png",
                          ylabel="Fake rate", title="DM fake rate vs eta"),
        plot_rate_summary({n: e.summary() for n, e in evaluations.items()}, out / "summary.png"),
    ]
