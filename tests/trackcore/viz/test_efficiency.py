"""Binned-rate overlays: the numbers drawn (pinned on a hand-built rate), axes, and the written PNG."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trackcore.viz.conftest import read_png
from trackcore.metrics.binning import BinnedRate, binned_rate
from trackcore.viz import errorbar_arrays, plot_binned_rates
from trackcore.viz.efficiency import _binned_rates_figure


def hand_rate(variable: str = "pt") -> BinnedRate:
    # Bins: 1/2, empty, 3/4.
    return BinnedRate(variable, np.array([0.5, 1.0, 2.0, 4.0]), np.array([1, 0, 3]), np.array([2, 0, 4]))


def figure(curves, **kw):
    args = {"ylabel": "Efficiency", "xlabel": None, "title": None, "logx": None, "ylim": None, "figsize": (4.0, 3.0)}
    return _binned_rates_figure(curves, **(args | kw))


def test_errorbar_arrays_pinned_and_empty_bins_dropped():
    arr = errorbar_arrays(hand_rate())
    np.testing.assert_allclose(arr["x"], [0.75, 3.0])
    np.testing.assert_allclose(arr["xerr"], [[0.25, 1.0], [0.25, 1.0]])
    np.testing.assert_allclose(arr["y"], [0.5, 0.75])
    # 68.3% Clopper-Pearson: 1/2 -> [1 - sqrt(0.8415), sqrt(0.8415)], 3/4 -> [0.38145, 0.8415 ** (1/4)].
    lower = np.array([1 - np.sqrt(0.8415), 0.3814539])
    upper = np.array([np.sqrt(0.8415), 0.8415**0.25])
    np.testing.assert_allclose(arr["yerr"], [[0.5, 0.75] - lower, upper - [0.5, 0.75]], atol=1e-6)
    np.testing.assert_array_equal(arr["passed"], [1, 3])
    np.testing.assert_array_equal(arr["total"], [2, 4])


def test_errorbar_arrays_match_the_rate_and_span_each_bin():
    rng = np.random.default_rng(0)
    edges = np.array([0.5, 0.75, 1.0, 2.0, 5.0, 100.0])
    rate = binned_rate(rng.uniform(0.5, 3.0, 200), rng.random(200) < 0.8, edges, "pt")
    keep = rate.total > 0
    assert not keep.all(), "the last bins must be empty for this test"
    for log in (False, True):
        arr = errorbar_arrays(rate, log=log)
        np.testing.assert_allclose(arr["x"] - arr["xerr"][0], edges[:-1][keep])
        np.testing.assert_allclose(arr["x"] + arr["xerr"][1], edges[1:][keep])
        np.testing.assert_allclose(arr["y"] - arr["yerr"][0], rate.lower[keep])
        np.testing.assert_allclose(arr["y"] + arr["yerr"][1], rate.upper[keep])
        assert (arr["yerr"] >= 0).all()


def test_errorbar_arrays_log_centres_are_geometric():
    arr = errorbar_arrays(hand_rate(), log=True)
    np.testing.assert_allclose(arr["x"], [np.sqrt(0.5), np.sqrt(8.0)])


def test_errorbar_arrays_all_empty():
    rate = BinnedRate("eta", np.array([-1.0, 0.0, 1.0]), np.array([0, 0]), np.array([0, 0]))
    arr = errorbar_arrays(rate)
    assert arr["x"].shape == (0,) and arr["yerr"].shape == (2, 0)


def test_errorbar_arrays_rejects_log_with_non_positive_edges():
    rate = BinnedRate("eta", np.array([-1.0, 0.0, 1.0]), np.array([1, 1]), np.array([2, 2]))
    with pytest.raises(ValueError, match="positive bin edges"):
        errorbar_arrays(rate, log=True)


def test_axes_follow_the_variable():
    pt = figure({"EC": hand_rate("pt"), "OC": hand_rate("pt")}).axes[0]
    assert pt.get_xscale() == "log"
    assert pt.get_xlabel() == r"$p_T$ [GeV]"
    assert [t.get_text() for t in pt.get_legend().get_texts()] == ["EC", "OC"]
    eta_rate = BinnedRate("eta", np.array([-1.0, 0.0, 1.0]), np.array([1, 2]), np.array([2, 2]))
    eta = figure({"EC": eta_rate}).axes[0]
    assert eta.get_xscale() == "linear"
    assert eta.get_xlabel() == r"$\eta$"
    assert eta.get_ylim() == (0.0, 1.05)
    custom = figure({"EC": hand_rate()}, logx=False, xlabel="x", ylim=(0.2, 0.9)).axes[0]
    assert (custom.get_xscale(), custom.get_xlabel(), custom.get_ylim()) == ("linear", "x", (0.2, 0.9))


def test_default_ylim_zooms_on_small_rates():
    fake = BinnedRate("eta", np.array([-1.0, 0.0, 1.0]), np.array([1, 2]), np.array([1000, 1000]))
    top = figure({"EC": fake}, ylabel="Fake rate").axes[0].get_ylim()[1]
    assert 1.15 * fake.upper.max() == pytest.approx(top)


def test_plot_binned_rates_writes_png(tmp_path):
    path = plot_binned_rates(
        {"EC": hand_rate(), "OC": hand_rate()}, tmp_path / "plots" / "eff_pt.png", title="t", figsize=(4, 3), dpi=40
    )
    assert path == tmp_path / "plots" / "eff_pt.png"
    assert read_png(path).shape == (120, 160, 4)


def test_plot_binned_rates_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="at least one curve"):
        plot_binned_rates({}, tmp_path / "x.png")
    eta_rate = BinnedRate("eta", np.array([-1.0, 0.0, 1.0]), np.array([1, 2]), np.array([2, 2]))
    with pytest.raises(ValueError, match=r"one variable \(got \['eta', 'pt'\]\)"):
        plot_binned_rates({"EC": hand_rate(), "OC": eta_rate}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="positive bin edges"):
        plot_binned_rates({"EC": eta_rate}, tmp_path / "x.png", logx=True)
    assert not list(tmp_path.iterdir())


def near_one(variable: str = "eta", rates=(0.9, 0.95, 0.97, 0.99), n: int = 1000) -> BinnedRate:
    edges = np.linspace(-2.0, 2.0, len(rates) + 1) if variable == "eta" else np.geomspace(0.5, 50.0, len(rates) + 1)
    total = np.full(len(rates), n)
    return BinnedRate(variable, edges, np.round(np.asarray(rates) * n).astype(np.int64), total)


def test_zoomed_panel_holds_every_point_near_one():
    curves = {"EC": near_one(), "OC": near_one(rates=(0.93, 0.96, 0.92, 0.98))}
    full, zoom = figure(curves, figsize=None).axes
    assert full.get_ylim() == (0.0, 1.05) and zoom.get_ylabel() == "Efficiency (zoom)"
    bottom, top = zoom.get_ylim()
    assert top - bottom <= 0.5, "the zoom magnifies at least twice"
    for rate in curves.values():
        y = errorbar_arrays(rate)["y"]
        assert bottom <= y.min() and y.max() <= top
    assert top >= 1.0, "points near 1 are read against 1"
    assert not zoom.texts, "nothing is below the zoomed range"


def test_points_below_the_zoomed_range_are_marked_and_counted():
    turn_on = near_one("pt", rates=(0.2, 0.35, 0.92, 0.97, 0.99))
    curves = {"EC": turn_on, "OC": near_one("pt", rates=(0.6, 0.9, 0.95, 0.96, 0.99))}
    _, zoom = figure(curves).axes
    bottom, top = zoom.get_ylim()
    arrows = [line for line in zoom.get_lines() if line.get_label() == "_below"]
    marked = sorted(x for line in arrows for x in line.get_xdata())
    outside = []
    for rate in curves.values():
        arr = errorbar_arrays(rate, log=True)
        inside = (arr["y"] >= bottom) & (arr["y"] <= top)
        outside += arr["x"][~inside].tolist()
    assert marked == sorted(outside) and len(marked) == 2  # the turn-on's two points, no other
    (note,) = zoom.texts
    assert note.get_text() == rf"$\downarrow$ 2 points below {bottom:.2f}: see the full range above"


def test_no_zoom_for_small_rates_unless_asked():
    fake = BinnedRate("eta", np.array([-1.0, 0.0, 1.0]), np.array([1, 2]), np.array([1000, 1000]))
    assert len(figure({"EC": fake}, ylabel="Fake rate").axes) == 1
    assert len(figure({"EC": hand_rate()}).axes) == 1, "0.5 and 0.75 with wide errors: a zoom would not magnify"
    assert len(figure({"EC": near_one()}, zoom=False).axes) == 1
    assert len(figure({"EC": hand_rate()}, zoom=True).axes) == 2


def test_hep_look_and_dataset_label():
    ax = figure({"EC": near_one()}, title="DM efficiency vs eta", dataset="small").axes[0]
    for axis, (low, high) in ((ax.xaxis, ("bottom", "top")), (ax.yaxis, ("left", "right"))):
        for which in ("major", "minor"):
            params = axis.get_tick_params(which=which)
            assert params["direction"] == "in" and params[low] and params[high]
        assert type(axis.get_minor_locator()).__name__ == "AutoMinorLocator"
    assert ax.xaxis.label.get_position()[0] == 1.0 and ax.xaxis.label.get_horizontalalignment() == "right"
    assert ax.yaxis.label.get_position()[1] == 1.0 and ax.yaxis.label.get_horizontalalignment() == "right"
    assert ax.get_title(loc="left") == r"$\bf{trackcore}$ small"
    assert ax.get_title(loc="right") == "DM efficiency vs eta"


def test_zoomed_figure_png(tmp_path):
    path = plot_binned_rates({"EC": near_one()}, tmp_path / "eff.png", dataset="small", dpi=20)
    assert read_png(path).shape == (152, 128, 4)  # (6.4, 7.6) inches: the zoomed panel adds height


def test_points_all_at_one_are_zoomed_against_the_narrowest_range():
    perfect = BinnedRate("pt", np.array([1.0, 2.0, 5.0]), np.array([3, 4]), np.array([3, 4]))  # 100%, wide errors
    full, zoom = figure({"EC": perfect}, zoom=True).axes
    bottom, top = zoom.get_ylim()
    assert bottom <= 1.0 <= top and top - bottom >= 0.05, "not blown up to the third decimal"
    fig = figure({"EC": perfect}, zoom=True)
    fig.canvas.draw()
    labels = {t.get_text() for t in fig.axes[1].get_xticklabels(minor=True) + fig.axes[1].get_xticklabels()}
    assert {"2", "3", "4"} <= labels and not any("times" in text for text in labels), labels
