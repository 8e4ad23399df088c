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

#: x labels saying whose pT and eta are binned: efficiencies bin particles, the fake rate candidates.
PARTICLE_PT_LABEL = r"particle $p_T$ [GeV]"
PARTICLE_ETA_LABEL = r"particle $\eta$"
CANDIDATE_ETA_LABEL = r"candidate $\eta$ (median of its hits' $\eta$)"


def plot_tracking_rates(
    evaluations: Mapping[str, TrackingEvaluation],
    out: str | Path,
    *,
    min_pt: float,
    dataset: str | None = None,
) -> list[Path]:
    """DM efficiency vs pT and vs eta, DM fake rate vs eta, and the headline rates, one curve (bar)
    per tracker: ``efficiency_pt.png``, ``efficiency_eta.png``, ``fake_rate_eta.png``, ``summary.png``
    in ``out``.

    The efficiencies are binned in the particle's pT and eta (with a zoomed panel where they are
    near 1), the fake rate in the candidate's eta: the median of its hits' eta, as a fake has no
    particle.

    Args:
        evaluations: tracker name -> its pooled evaluation.
        min_pt: the pT cut of the particles of interest (named in the eta plot's title).
        dataset: the data set, named on every figure.
    """
    out = Path(out)
    return [
        plot_binned_rates({n: e.binned_efficiency("pt") for n, e in evaluations.items()}, out / "efficiency_pt.png",
                          xlabel=PARTICLE_PT_LABEL, title="DM efficiency vs pT", dataset=dataset),
        plot_binned_rates({n: e.binned_efficiency("eta") for n, e in evaluations.items()},
                          out / "efficiency_eta.png", xlabel=PARTICLE_ETA_LABEL,
                          title=f"DM efficiency vs eta, pT > {min_pt:g} GeV", dataset=dataset),
        plot_binned_rates({n: e.binned_fake_rate() for n, e in evaluations.items()}, out / "fake_rate_eta.png",
                          ylabel="Fake rate", xlabel=CANDIDATE_ETA_LABEL, title="DM fake rate vs candidate eta",
                          dataset=dataset),
        plot_rate_summary({n: e.summary() for n, e in evaluations.items()}, out / "summary.png", dataset=dataset),
    ]
