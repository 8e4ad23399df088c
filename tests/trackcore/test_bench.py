"""``trackcore bench --quick``: every family and every stage timed, as JSON and Markdown."""

from __future__ import annotations

import json
import re

import pytest

from trackcore.bench import FAMILIES, STAGES
from trackcore.cli import main


@pytest.mark.slow
def test_quick_bench_json_has_every_stage_and_family(tmp_path, monkeypatch, single_thread):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--quick", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench_tiny.json").read_text())
    assert set(result["families"]) == set(FAMILIES) and result["n_events"] == 3
    assert result["random_weights"] == sorted(FAMILIES) and result["machine"]["cpu_count"] >= 1
    for family, entry in result["families"].items():
        assert set(entry["stages"]) == set(STAGES)
        for stage in STAGES:
            timing = entry["stages"][stage]
            if family == "eggnet" and stage == "graph_construction":
                assert timing is None  # EggNet builds its kNN graphs inside the model
                continue
            assert timing["n"] == 3 and 0 < timing["min_s"] <= timing["median_s"] <= timing["max_s"]
        assert entry["total"]["median_s"] > 0 and entry["peak_rss_gb"] > 0.05
    table = (tmp_path / "bench_tiny.md").read_text()
    assert all(f"| {family} |" in table for family in FAMILIES)


@pytest.mark.parametrize(
    ("ckpt", "message"),
    [("runs/x.ckpt", "--ckpt takes STEP=PATH"), ("gnn=runs/x.ckpt", r"steps \['gnn'\]"),
     ("ml=runs/missing.ckpt", "runs/missing.ckpt: checkpoint not found")],
)
def test_bad_checkpoint_arguments_are_named(tmp_path, monkeypatch, capsys, ckpt, message):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--quick", "--families", "ec", "--ckpt", ckpt, "--out", str(tmp_path)]) == 2
    assert re.search(message, capsys.readouterr().err)
