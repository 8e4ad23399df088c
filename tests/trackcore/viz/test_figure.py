"""The shared figure helpers: PNG-only output, created parents, and no pyplot anywhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.trackcore.viz.conftest import read_png
from trackcore.viz._figure import new_figure, save_png


def test_save_png_creates_parents_and_honours_dpi(tmp_path):
    fig = new_figure((4.0, 3.0))
    fig.add_subplot().plot([0, 1], [0, 1])
    path = save_png(fig, tmp_path / "a" / "b" / "fig.png", dpi=50)
    assert path == tmp_path / "a" / "b" / "fig.png"
    assert read_png(path).shape == (150, 200, 4)
    assert read_png(save_png(fig, tmp_path / "fig2.png", dpi=100)).shape == (300, 400, 4)


@pytest.mark.parametrize("name", ["fig.pdf", "fig"])
def test_save_png_rejects_other_formats(tmp_path, name):
    with pytest.raises(ValueError, match=r"'\.png' path"):
        save_png(new_figure((2.0, 2.0)), tmp_path / name, dpi=50)
    assert not (tmp_path / name).exists()


def test_save_png_rejects_bad_dpi(tmp_path):
    with pytest.raises(ValueError, match="dpi > 0"):
        save_png(new_figure((2.0, 2.0)), tmp_path / "fig.png", dpi=0)


@pytest.mark.slow
def test_plotting_never_imports_pyplot(tmp_path):
    # pyplot keeps global figure state; the package must work without ever loading it.
    code = f"""
import sys
import numpy as np
from trackcore.metrics.binning import binned_rate
from trackcore.viz import plot_binned_rates, plot_event_display, plot_rate_summary
rate = binned_rate(np.array([0.7, 1.5]), np.array([True, False]), np.array([0.5, 1.0, 2.0]), "pt")
plot_binned_rates({{"EC": rate}}, r"{tmp_path}/eff.png", dpi=20)
plot_rate_summary({{"EC": {{"dm_efficiency": 0.5}}}}, r"{tmp_path}/sum.png", dpi=20)
plot_event_display(np.ones((3, 3)), r"{tmp_path}/ev.png", particle_id=np.array([1, 1, 0]), dpi=20)
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[3]
    )
    assert result.returncode == 0, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"eff.png", "sum.png", "ev.png"}


def test_save_png_is_atomic(tmp_path):
    good = new_figure((2.0, 2.0))
    path = save_png(good, tmp_path / "fig.png", dpi=20)
    before = path.read_bytes()
    bad = new_figure((2.0, 2.0))
    bad.text(0.5, 0.5, r"$\notacommand$")  # fails only when drawn
    with pytest.raises(ValueError):
        save_png(bad, path, dpi=20)
    assert path.read_bytes() == before, "a failed draw replaced the old figure"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"], "a temporary file was left behind"


def test_hep_axes_and_dataset_label():
    from trackcore.viz._figure import dataset_label, hep_axes

    ax = new_figure((3.0, 3.0)).add_subplot()
    hep_axes(ax, xlabel="x", ylabel="y", minor="y")
    assert ax.xaxis.get_tick_params(which="major")["direction"] == "in"
    assert ax.yaxis.get_tick_params(which="major")["right"]
    assert type(ax.xaxis.get_minor_locator()).__name__ == "NullLocator"
    assert type(ax.yaxis.get_minor_locator()).__name__ == "AutoMinorLocator"
    dataset_label(ax, "data/my$run")
    assert ax.get_title(loc="left") == r"$\bf{trackcore}$ data/my\$run"
    with pytest.raises(ValueError, match="minor in"):
        hep_axes(ax, minor="z")
