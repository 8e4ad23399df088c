"""benchmarks/follow_strips.py: truth pixel tracks of a simulated full-detector event, followed into the strips."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "follow_strips.py"


def test_truth_pixel_tracks_followed_into_the_strips_find_most_particles(tmp_path: Path, monkeypatch) -> None:
    from trackcore.data import process_event
    from trackcore.data.processing import get_benchmark
    from trackcore.data.simulation.presets import get_preset
    from trackcore.data.simulation.simulate import simulate_event

    preset = replace(get_preset("tiny"), volumes=(7, 8, 9, 12, 13, 14, 16, 17, 18), noise_per_module=0.0)
    event = simulate_event(preset, seed=3, event_id=1000)
    full = process_event(event, get_benchmark("pt1_all"))
    pixel = process_event(event, get_benchmark("pt1_pixel"))
    # perfect pixel tracks: the truth, one candidate per particle with >= 3 pixel hits
    pid = pixel.particle_id.numpy()
    ids, counts = np.unique(pid[pid != 0], return_counts=True)
    good = np.isin(pid, ids[counts >= 3])
    pixel.track_hit_id, pixel.track_id = pixel.hit_id[good], torch.from_numpy(pid[good])
    for stage, data in (("full", full), ("pixel", pixel)):
        (tmp_path / stage / "test").mkdir(parents=True)
        torch.save(data, tmp_path / stage / "test" / "event000001000.pt")
    spec = importlib.util.spec_from_file_location("benchmark_follow_strips", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr("sys.argv", ["follow_strips.py", str(tmp_path / "full"), str(tmp_path / "pixel"),
                                     "--min-hits", "5", "--out", str(tmp_path / "out")])
    module.main()
    report = json.loads((tmp_path / "out" / "follow_strips.json").read_text())
    assert report["n_events"] == 1 and report["seconds_per_event"] > 0
    assert report["followed"]["dm_efficiency"] > 0.8 and report["followed"]["dm_fake_rate"] < 0.05
    assert "| pixel tracks + following |" in (tmp_path / "out" / "follow_strips.md").read_text()
