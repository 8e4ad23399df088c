"""The trackcore command line: inspect (simulate and prepare are tested with their modules)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import make_event, shared_data
from trackcore.cli import main
from trackcore.data import write_event


def test_inspect_event_and_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for i in (1000, 1001):
        e = make_event(seed=i)
        e.event_id = i
        write_event(e, tmp_path)
    assert main(["inspect", str(tmp_path / "event000001000-hits.csv")]) == 0
    out = capsys.readouterr().out
    assert "hits: 14" in out and "hits per volume: 8: 14" in out and "noise fraction: 14.3%" in out
    assert main(["inspect", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 events" in out and "hits per event: mean 14" in out
    assert main(["inspect", str(tmp_path), "--json"]) == 0
    summaries = json.loads(capsys.readouterr().out)
    assert [s["event_id"] for s in summaries] == [1000, 1001]
    assert summaries[0]["n_particles_with_hits"] == 3


def test_inspect_bad_path_exits_2_with_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["inspect", str(tmp_path / "nothing")]) == 2
    assert "nothing: no such file or folder" in capsys.readouterr().err


@pytest.mark.realdata
def test_inspect_real_event(capsys: pytest.CaptureFixture) -> None:
    assert main(["inspect", str(shared_data("trackml_real_partial", "event000001001"))]) == 0
    out = capsys.readouterr().out
    assert "hits: 93680" in out and "particles: 8915" in out
    assert "noise fraction: 18.6% (estimated from particles.nhits)" in out


def test_simulate_then_inspect_then_prepare(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sim"
    assert main(["simulate", "--preset", "tiny", "--events", "2", "--seed", "3", "--out", str(out)]) == 0
    assert "wrote 2 tiny events (seed 3)" in capsys.readouterr().out
    assert [p.name for p in sorted(out.glob("*-hits.csv"))] == ["event000001000-hits.csv", "event000001001-hits.csv"]
    assert main(["inspect", str(out)]) == 0
    assert "2 events" in capsys.readouterr().out
    root = tmp_path / "cache"
    assert main(["prepare", "--input", str(out), "--out", str(root), "--volumes", "8", "--workers", "1"]) == 0
    files = sorted(root.glob("processed/*/*/event*.pt"))
    assert [f.name for f in files] == ["event000001000.pt", "event000001001.pt"]
    import torch

    data = torch.load(files[0], weights_only=False)
    assert set(data.volume_id.tolist()) == {8}
    assert data.selection["params"]["volumes"] == [8]


def test_simulate_unknown_preset_lists_the_valid_ones(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["simulate", "--preset", "huge", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "huge" in err and all(p in err for p in ("tiny", "small", "trackml"))
