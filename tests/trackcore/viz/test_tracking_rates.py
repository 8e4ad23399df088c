"""The standard tracking plots: whose pT / eta each binned plot uses, the data set named, the PNGs."""

from __future__ import annotations

import numpy as np

from tests.trackcore.viz.conftest import read_png
from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth, evaluate_tracks
from trackcore.viz import plot_tracking_rates


def evaluation(seed: int):
    """20 particles x 4 hits (pT 0.6-10 GeV, eta -2..2) and 6 noise hits; every third particle missed,
    one fake from the noise hits."""
    rng = np.random.default_rng(seed)
    pid = np.r_[np.repeat(np.arange(1, 21), 4), np.zeros(6, np.int64)]
    hit_id = np.arange(len(pid)) + 1
    truth = EventTruth(hit_id, pid, np.arange(1, 21), np.geomspace(0.6, 10.0, 20), rng.uniform(-2, 2, 20),
                       hit_eta_j=rng.uniform(-2, 2, len(pid)), event_id=seed)
    found = (pid > 0) & (pid % 3 != 0)
    noise = pid == 0
    cands = TrackCandidates(np.r_[hit_id[found], hit_id[noise][:4]], np.r_[pid[found], [99] * 4])
    return evaluate_tracks(cands, truth)


def test_labels_say_whose_eta_and_every_figure_names_the_data(tmp_path, monkeypatch):
    import trackcore.viz.efficiency as efficiency
    import trackcore.viz.summary as summary

    figures = {}
    for module in (efficiency, summary):

        def keep(fig, path, dpi, save=module.save_png):
            figures[path.name] = fig
            return save(fig, path, 20)

        monkeypatch.setattr(module, "save_png", keep)
    paths = plot_tracking_rates({"EC": evaluation(0), "OC": evaluation(1)}, tmp_path, min_pt=1.0, dataset="tiny")
    assert [p.name for p in paths] == ["efficiency_pt.png", "efficiency_eta.png", "fake_rate_eta.png", "summary.png"]
    assert all(read_png(p).ndim == 3 for p in paths)
    fake = figures["fake_rate_eta.png"].axes[0]
    assert fake.get_xlabel() == r"candidate $\eta$ (median of its hits' $\eta$)"
    assert fake.get_title(loc="right") == "DM fake rate vs candidate eta"
    assert figures["efficiency_eta.png"].axes[0].get_xlabel() == r"particle $\eta$"
    assert figures["efficiency_pt.png"].axes[0].get_xlabel() == r"particle $p_T$ [GeV]"
    for name, fig in figures.items():
        assert fig.axes[0].get_title(loc="left") == r"$\bf{trackcore}$ tiny", name
