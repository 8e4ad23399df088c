"""`trackcore scan`: both inference modes scanned on a stage folder's cluster coordinates."""

from __future__ import annotations

import json

import pytest
import torch

from tests.trackcore.metrics.test_stage_report import _event, _write
from trackcore.cli import main


def _condensed_event(event_id: int, *, beta: bool = True):
    """A processed event whose 'coords' put each particle at its own point (spacing 1, spread
    0.01) and the noise hits far apart; one hit per particle has beta 0.9, the others 0.2."""
    data = _event(event_id, graph=False, tracks=False)
    gen = torch.Generator().manual_seed(event_id)
    pid = data.particle_id
    _, index = torch.unique(pid, return_inverse=True)
    coords = torch.zeros(data.num_nodes, 3)
    coords[:, 0] = index.float()
    coords[pid == 0] = 10.0 * torch.arange(1, int((pid == 0).sum()) + 1).float().unsqueeze(1)
    data.coords = coords + 0.01 * torch.rand(coords.shape, generator=gen)
    if beta:
        b = torch.full((data.num_nodes,), 0.2)
        for p in pid.unique():
            if p != 0:
                b[torch.nonzero(pid == p)[0]] = 0.9
        b[pid == 0] = 0.01
        data.beta = b
    return data


def test_scan_writes_tables_plots_and_the_best_settings(tmp_path, capsys):
    stage = tmp_path / "stage"
    _write(stage / "val", [_condensed_event(1000 + i) for i in range(2)])
    args = ["scan", str(stage), "--eps", "0.001,0.1,3", "--min-samples", "1,2", "--t-beta", "0.1,0.5,0.95",
            "--t-d", "0.001,0.1,3", "--min-pt", "0"]
    assert main(args) == 0
    out = stage / "scan" / "val"
    result = json.loads((out / "scan.json").read_text())
    assert result["n_events"] == 2 and result["split"] == "val"
    assert result["dbscan"]["best"] == {"eps": 0.1, "min_samples": 1}
    assert result["condensation"]["best"] == {"t_beta": 0.1, "t_d": 0.1}
    for builder in ("dbscan", "condensation"):
        assert result[builder]["summary"]["dm_efficiency"] == 1.0
        assert result[builder]["summary"]["dm_fake_rate"] == 0.0
        assert result[builder]["build_seconds_per_event"] > 0
        assert (out / f"scan_{builder}.png").stat().st_size > 1000
        n_settings = 3 * 2 if builder == "dbscan" else 3 * 3
        assert len((out / f"scan_{builder}.csv").read_text().splitlines()) == 1 + n_settings
    assert "dbscan: best {'eps': 0.1, 'min_samples': 1}" in capsys.readouterr().out


def test_scan_without_beta_scans_dbscan_only_and_names_missing_tensors(tmp_path, capsys):
    stage = tmp_path / "stage"
    _write(stage / "val", [_condensed_event(1000, beta=False)])
    assert main(["scan", str(stage), "--eps", "0.1", "--min-samples", "1", "--min-pt", "0"]) == 0
    assert "condensation" not in json.loads((stage / "scan" / "val" / "scan.json").read_text())
    assert main(["scan", str(stage), "--builder", "condensation"]) == 2
    assert "carry no 'beta'" in capsys.readouterr().err
    assert main(["scan", str(stage), "--key", "embedding"]) == 2
    assert "no 'embedding' tensor" in capsys.readouterr().err
    assert main(["scan", str(tmp_path / "nope")]) == 2
    assert main(["scan", str(stage), "--recover"]) == 2
    assert "give --refine too" in capsys.readouterr().err


def test_scan_records_the_refinement_it_judged_with(tmp_path):
    stage = tmp_path / "stage"
    _write(stage / "val", [_condensed_event(1000, beta=False)])
    args = ["scan", str(stage), "--eps", "0.1", "--min-samples", "1", "--min-pt", "0", "--refine", "--recover"]
    assert main(args) == 0
    result = json.loads((stage / "scan" / "val" / "scan.json").read_text())
    assert result["refine"] is True and result["recover"] is True


@pytest.mark.parametrize("bad", ["--eps=a,b", "--min-samples=0.5"])
def test_bad_grids_are_usage_errors(tmp_path, bad):
    with pytest.raises(SystemExit):
        main(["scan", str(tmp_path), bad])
