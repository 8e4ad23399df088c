"""The track-building benchmark runs end to end in quick mode and reports every builder."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "track_building.py"


def test_quick_benchmark_reports_every_builder(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("benchmark_track_building", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "track_building.json").read_text())
    assert set(report["results"]) == {
        "connected_components",
        "cc_and_walk",
        "dbscan",
        "condensation",
        "assign_threshold",
        "assign_argmax",
        "assign_matching",
    }
    for name, r in report["results"].items():
        assert r["median_s"] > 0 and r["n_tracks"] > 100, name
        # the synthetic inputs are built from truth: every builder finds most particles
        assert r["summary"]["dm_efficiency"] > 0.85 and math.isfinite(r["summary"]["dm_fake_rate"]), name
    assert "| dbscan |" in (tmp_path / "track_building.md").read_text()
