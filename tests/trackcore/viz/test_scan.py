"""Scan heatmaps: values in their cells, blank cells hatched, marked n/a and explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.trackcore.viz.conftest import read_png
from trackcore.builders.scan import BuilderScan
from trackcore.viz import plot_scan
from trackcore.viz.scan import BLANK_REASONS, blank_reasons


def grid_scan(drop_missing: bool = True) -> BuilderScan:
    """eps x min_samples = 3 x 3: at eps 0.05 and min_samples >= 2 no candidate (NaN objective),
    (0.3, 3) not in the table."""
    rows = []
    for eps in (0.05, 0.1, 0.3):
        for ms in (1, 2, 3):
            empty = eps == 0.05 and ms >= 2
            rows.append({"eps": eps, "min_samples": ms, "objective": np.nan if empty else 0.8 - 0.1 * ms + eps,
                         "n_candidates": 0.0 if empty else 40.0, "n_particles": 30.0})
    table = pd.DataFrame(rows)
    if drop_missing:
        table = table[~((table.eps == 0.3) & (table.min_samples == 3))].reset_index(drop=True)
    return BuilderScan(table=table, params=("eps", "min_samples"), best_params={"eps": 0.3, "min_samples": 1},
                       best_objective=1.0)


def test_blank_reasons_name_each_blank_cell():
    reasons = blank_reasons(grid_scan())
    assert reasons.loc[2, 0.05] == reasons.loc[3, 0.05] == "no candidates"
    assert reasons.loc[3, 0.3] == "not scanned"
    assert (reasons.to_numpy() == "").sum() == 6
    no_particles = grid_scan(drop_missing=False)
    no_particles.table.loc[:, "n_particles"] = 0.0
    no_particles.table.loc[0, "objective"] = np.nan
    no_particles.table.loc[0, "n_candidates"] = 40.0
    assert blank_reasons(no_particles).loc[1, 0.05] == "no particles"


def test_blank_cells_are_hatched_marked_and_explained(tmp_path, monkeypatch):
    import trackcore.viz.scan as scan_module

    figures = []
    monkeypatch.setattr(scan_module, "save_png", lambda fig, path, dpi: figures.append(fig) or path)
    plot_scan(grid_scan(), tmp_path / "scan.png", title="dbscan: val, 2 events", dataset="tiny")
    (fig,) = figures
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("n/a") == 3 and "nan" not in texts and "1.000" in texts
    hatched = [p for p in ax.patches if p.get_hatch() == "///"]
    assert sorted((p.get_x() + 0.5, p.get_y() + 0.5) for p in hatched) == [(0.0, 1.0), (0.0, 2.0), (2.0, 2.0)]
    note = fig.get_supxlabel()
    assert f"2 cells: {BLANK_REASONS['no candidates']}" in note
    assert f"1 cell: {BLANK_REASONS['not scanned']}" in note
    assert ax.get_title(loc="left") == r"$\bf{trackcore}$ tiny"


def test_no_note_without_blank_cells_and_png_written(tmp_path, monkeypatch):
    import trackcore.viz.scan as scan_module

    figures = []
    save = scan_module.save_png
    monkeypatch.setattr(scan_module, "save_png", lambda fig, path, dpi: figures.append(fig) or save(fig, path, dpi))
    scan = grid_scan(drop_missing=False)
    scan.table.loc[:, "objective"] = scan.table["objective"].fillna(0.0)
    path = plot_scan(scan, tmp_path / "scan.png", dpi=20)
    assert read_png(path).ndim == 3
    assert figures[0].get_supxlabel() == "" and "n/a" not in [t.get_text() for t in figures[0].axes[0].texts]


def test_bad_scans_are_named(tmp_path):
    scan = grid_scan()
    with pytest.raises(ValueError, match="no column 'fom'"):
        plot_scan(scan, tmp_path / "x.png", value="fom")
    doubled = BuilderScan(table=pd.concat([scan.table, scan.table.iloc[:1]]), params=scan.params,
                          best_params=scan.best_params, best_objective=1.0)
    with pytest.raises(ValueError, match=r"1 repeated setting\(s\) \(e.g. eps=0.05, min_samples=1"):
        plot_scan(doubled, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
