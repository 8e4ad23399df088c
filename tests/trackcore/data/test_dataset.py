"""prepare_dataset (parallel, cached, one folder per config) and ProcessedEventDataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import trackcore.data.dataset as dataset_module
from trackcore.data.dataset import ProcessedEventDataset, prepare_dataset, processed_dir
from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.processing import ProcessingConfig
from trackcore.data.trackml_io import write_event


def random_event(event_id: int, *, seed: int, n_particles: int = 20) -> Event:
    """Straight tracks from a vertex near the origin through 4 barrel layers, plus noise."""
    rng = np.random.default_rng(seed)
    phi = rng.uniform(-np.pi, np.pi, n_particles)
    cot = rng.uniform(-1, 1, n_particles)
    vz = rng.normal(0, 10, n_particles)
    radii = np.array([30.0, 70.0, 120.0, 170.0])
    r = np.tile(radii, n_particles)
    pid = np.repeat(np.arange(1, n_particles + 1), len(radii))
    p = pid - 1
    n_noise = 10
    x = np.concatenate([r * np.cos(phi[p]), rng.uniform(-170, 170, n_noise)])
    y = np.concatenate([r * np.sin(phi[p]), rng.uniform(-170, 170, n_noise)])
    z = np.concatenate([vz[p] + r * cot[p], rng.uniform(-200, 200, n_noise)])
    n = len(x)
    hits = pd.DataFrame({"hit_id": np.arange(1, n + 1), "x": x, "y": y, "z": z,
                         "volume_id": 8, "layer_id": np.r_[np.tile([2, 4, 6, 8], n_particles),
                                                           np.full(n_noise, 2)],
                         "module_id": 1})
    pt = rng.uniform(0.5, 5, n_particles)
    particles = pd.DataFrame({
        "particle_id": np.arange(1, n_particles + 1), "vx": 0.0, "vy": 0.0, "vz": vz,
        "px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pt * cot, "q": 1, "nhits": 4,
    })
    truth = pd.DataFrame({"hit_id": hits["hit_id"], "particle_id": np.r_[pid, np.zeros(n_noise)],
                          "tx": x, "ty": y, "tz": z, "tpx": 0.0, "tpy": 0.0, "tpz": 0.0,
                          "weight": np.r_[np.full(len(pid), 1.0 / len(pid)), np.zeros(n_noise)]})
    truth["particle_id"] = truth["particle_id"].astype(np.int64)
    return Event(event_id=event_id, hits=hits, particles=particles, truth=truth,
                 truth_kind="full", source=f"random seed {seed}")


@pytest.fixture
def csv_events(tmp_path: Path) -> list[Path]:
    return [write_event(random_event(1000 + i, seed=i), tmp_path / "csv") for i in range(3)]


def test_prepare_writes_one_file_per_event(csv_events: list[Path], tmp_path: Path) -> None:
    config = ProcessingConfig()
    files = prepare_dataset(csv_events, tmp_path / "out", config, workers=2, progress=False)
    folder = tmp_path / "out" / config.key()
    assert files == [folder / f"event{1000 + i:09d}.pt" for i in range(3)]
    record = json.loads((folder / "config.json").read_text())
    assert record["config"] == config.to_dict() and record["key"] == config.key()
    assert record["sources"] == sorted(map(str, csv_events))
    ds = ProcessedEventDataset(folder)
    assert len(ds) == 3 and ds.event_ids == [1000, 1001, 1002] and ds.config == config
    data = ds[1]
    assert data.event_id == 1001 and data.num_nodes == 90
    assert data.track_edges.shape == (2, 20 * 3)
    assert not list(folder.glob(".*tmp"))


def test_second_run_is_cached(csv_events: list[Path], tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    config = ProcessingConfig()
    files = prepare_dataset(csv_events[:2], tmp_path, config, workers=2, progress=False)
    mtimes = [f.stat().st_mtime_ns for f in files]
    calls: list[Path] = []
    original = dataset_module._process_to_file

    def counting(prefix: Path, target: Path, cfg: ProcessingConfig) -> str | None:
        calls.append(prefix)
        return original(prefix, target, cfg)

    monkeypatch.setattr(dataset_module, "_process_to_file", counting)
    again = prepare_dataset(csv_events, tmp_path, config, workers=1, progress=False)
    assert calls == [csv_events[2]]  # only the new event is processed
    assert [f.stat().st_mtime_ns for f in again[:2]] == mtimes
    prepare_dataset(csv_events, tmp_path, config, workers=1, progress=False, overwrite=True)
    assert len(calls) == 1 + 3


def test_configs_get_separate_folders(csv_events: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    a = prepare_dataset(csv_events[:1], out, ProcessingConfig(), progress=False)
    b = prepare_dataset(csv_events[:1], out, ProcessingConfig(min_pt=1.0), progress=False)
    assert a[0].parent != b[0].parent and a[0].name == b[0].name
    assert torch.load(b[0], weights_only=False).selection["params"]["min_pt"] == 1.0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [ProcessingConfig().key(), ProcessingConfig(min_pt=1.0).key()])


def test_folder_of_another_config_is_refused(csv_events: list[Path], tmp_path: Path) -> None:
    config = ProcessingConfig()
    prepare_dataset(csv_events[:1], tmp_path, config, progress=False)
    record_path = processed_dir(tmp_path, config) / "config.json"
    record = json.loads(record_path.read_text())
    record["config"]["min_pt"] = 2.0
    record_path.write_text(json.dumps(record))
    with pytest.raises(DataError, match="config.json: records config"):
        prepare_dataset(csv_events[:1], tmp_path, config, progress=False)


def test_failing_event_is_named(csv_events: list[Path], tmp_path: Path) -> None:
    broken = csv_events[1]
    Path(f"{broken}-hits.csv").write_text("hit_id,x,y\n1,2,3\n")
    with pytest.raises(DataError, match=f"{broken.name}: processing failed"):
        prepare_dataset(csv_events, tmp_path, ProcessingConfig(), workers=2, progress=False)
    with pytest.raises(DataError, match="not a TrackML event path"):
        prepare_dataset([tmp_path / "hits.csv"], tmp_path, ProcessingConfig(), progress=False)


def test_empty_and_corrupt(tmp_path: Path, csv_events: list[Path]) -> None:
    with pytest.raises(DataError, match="folder not found"):
        ProcessedEventDataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"empty: holds no processed event"):
        ProcessedEventDataset(tmp_path / "empty")
    files = prepare_dataset(csv_events[:2], tmp_path / "out", ProcessingConfig(), progress=False)
    files[0].write_bytes(b"not a torch file")
    ds = ProcessedEventDataset(files[0].parent)
    with pytest.raises(DataError, match=rf"{files[0].name}: cannot be read as a processed event"):
        ds[0]
    assert ds[1].event_id == 1001
    with pytest.raises(DataError, match="lacks 1 requested"):
        ProcessedEventDataset(files[0].parent, files=["event000009999.pt"])
