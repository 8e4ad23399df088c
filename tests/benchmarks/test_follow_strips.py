"""benchmarks/follow_strips.py: truth pixel tracks of a simulated full-detector event, followed into the strips."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "follow_strips.py"


def test_truth_pixel_tracks_followed_into_the_strips_find_most_particles(tmp_path: Path, monkeypatch) -> None:
    from tests.trackcore.builders.helpers import full_and_pixel_stages

    full, pixel_work = full_and_pixel_stages(tmp_path)
    spec = importlib.util.spec_from_file_location("benchmark_follow_strips", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr("sys.argv", ["follow_strips.py", str(full), str(pixel_work / "stages" / "ec"),
                                     "--min-hits", "5", "--out", str(tmp_path / "out")])
    module.main()
    report = json.loads((tmp_path / "out" / "follow_strips.json").read_text())
    assert report["n_events"] == 1 and report["seconds_per_event"] > 0
    assert report["followed"]["dm_efficiency"] > 0.8 and report["followed"]["dm_fake_rate"] < 0.05
    assert "| pixel tracks + following |" in (tmp_path / "out" / "follow_strips.md").read_text()
