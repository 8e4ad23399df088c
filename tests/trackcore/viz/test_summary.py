"""Rate summary bars: values in percent, missing rates absent (not zero), and the written PNG."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trackcore.viz.conftest import read_png
from trackcore.viz import SUMMARY_KEYS, plot_rate_summary, summary_values
from trackcore.viz.summary import _rate_summary_figure

SUMMARIES = {
    "EC": {
        "dm_efficiency": 0.93,
        "lhc_efficiency": 0.95,
        "perfect_efficiency": 0.85,
        "dm_fake_rate": 0.02,
        "dm_duplicate_rate": 0.05,
        "n_tracks": 1234,  # other entries are ignored
    },
    "OC": {
        "dm_efficiency": np.float64(0.97),
        "perfect_efficiency": 0.9,
        "dm_fake_rate": 0.01,
        "dm_duplicate_rate": None,
    },
}


def test_summary_values_percent_with_nan_for_missing():
    values = summary_values(SUMMARIES)
    assert values.shape == (2, len(SUMMARY_KEYS))
    np.testing.assert_allclose(values[0], [93.0, 95.0, 85.0, 2.0, 5.0])
    np.testing.assert_allclose(values[1], [97.0, np.nan, 90.0, 1.0, np.nan])
    np.testing.assert_allclose(summary_values({"A": {"x": float("nan"), "y": 0}}, keys=("x", "y")), [[np.nan, 0.0]])


@pytest.mark.parametrize("bad", ["0.9", True, [0.9]])
def test_summary_values_rejects_non_numbers(bad):
    with pytest.raises(ValueError, match=r"summaries\['A'\]\['dm_efficiency'\]"):
        summary_values({"A": {"dm_efficiency": bad}})


def test_missing_rates_are_absent_bars_with_a_note():
    fig = _rate_summary_figure(SUMMARIES, keys=SUMMARY_KEYS, title="t", figsize=None)
    ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == sorted([93.0, 95.0, 85.0, 2.0, 5.0, 97.0, 90.0, 1.0])  # 10 slots, 2 missing, no zero bar
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("n/a") == 2
    assert {"93.0", "97.0", "1.0"} <= set(texts)
    assert "OC: lhc_efficiency, dm_duplicate_rate" in fig.get_supxlabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["EC", "OC"]


def test_no_note_when_nothing_is_missing():
    fig = _rate_summary_figure({"EC": SUMMARIES["EC"]}, keys=SUMMARY_KEYS, title=None, figsize=None)
    assert fig.get_supxlabel() == ""
    assert len(fig.axes[0].patches) == len(SUMMARY_KEYS)


def test_plot_rate_summary_writes_png(tmp_path):
    path = plot_rate_summary(
        SUMMARIES, tmp_path / "out" / "summary.png", keys=("dm_efficiency", "lhc_efficiency"), figsize=(4, 3), dpi=40
    )
    assert path == tmp_path / "out" / "summary.png"
    assert read_png(path).shape == (120, 160, 4)


def test_many_trackers_and_a_key_nobody_reports(tmp_path):
    many = {f"T{i}": {"dm_efficiency": 0.1 * i} for i in range(6)}
    path = plot_rate_summary(many, tmp_path / "many.png", keys=("dm_efficiency", "unknown_rate"), dpi=30)
    assert read_png(path).ndim == 3


def test_plot_rate_summary_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="at least one tracker"):
        plot_rate_summary({}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="at least one metric"):
        plot_rate_summary(SUMMARIES, tmp_path / "x.png", keys=())


def test_dataset_label_and_inward_ticks():
    fig = _rate_summary_figure(SUMMARIES, keys=SUMMARY_KEYS, title="t", figsize=None, dataset="small")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == r"$\bf{trackcore}$ small" and ax.get_title(loc="right") == "t"
    assert ax.yaxis.get_tick_params(which="major")["direction"] == "in"
    assert not ax.xaxis.get_tick_params(which="major")["bottom"], "categories get no x ticks"
