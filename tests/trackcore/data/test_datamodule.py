"""TrackMLDataModule: argument checks, simulated preset "tiny", a folder of real events."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.conftest import shared_data
from trackcore.data.datamodule import TrackMLDataModule
from trackcore.data.errors import DataError
from trackcore.data.processing import ProcessingConfig, get_benchmark


def test_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one of preset"):
        TrackMLDataModule(data_root=str(tmp_path))
    with pytest.raises(ValueError, match="exactly one of preset"):
        TrackMLDataModule(preset="tiny", input_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"split sizes \['n_val', 'n_test'\]"):
        TrackMLDataModule(input_dir=str(tmp_path), n_train=1)
    with pytest.raises(ValueError, match="benchmark .* or processing, not both"):
        TrackMLDataModule(input_dir=str(tmp_path), n_train=1, n_val=1, n_test=1,
                          benchmark="pt1_pixel", processing=ProcessingConfig())
    dm = TrackMLDataModule(input_dir=str(tmp_path), n_train=1, n_val=0, n_test=0,
                           benchmark="pt1_pixel", data_root=str(tmp_path / "cache"))
    assert dm.processing == get_benchmark("pt1_pixel")
    with pytest.raises(DataError, match="no TrackML events found"):
        dm.prepare_data()
    with pytest.raises(RuntimeError, match="prepare_data"):
        dm.train_dataloader()


def _check_loaders(dm: TrackMLDataModule, sizes: tuple[int, int, int]) -> None:
    dm.prepare_data()
    dm.setup("fit")
    ids = {s: dm.datasets[s].event_ids for s in ("train", "val", "test")}
    assert tuple(len(v) for v in ids.values()) == sizes
    # Sorted event ids, train first: the splits are consecutive blocks.
    flat = ids["train"] + ids["val"] + ids["test"]
    assert flat == sorted(flat)
    for loader in (dm.train_dataloader(), dm.val_dataloader(), dm.test_dataloader()):
        batch = next(iter(loader))
        assert batch.x.dtype == torch.float32 and batch.x.shape[0] == batch.num_nodes > 0
        assert batch.track_edges.shape[0] == 2
        assert int(batch.track_edges.max()) < batch.num_nodes


def test_preset_tiny(tmp_path: Path) -> None:
    dm = TrackMLDataModule(preset="tiny", data_root=str(tmp_path), progress=False)
    _check_loaders(dm, (dm.n_train, dm.n_val, dm.n_test))
    sim_dir = tmp_path / "sim" / "tiny-seed0"
    sim = sorted(sim_dir.glob("event*-*.csv*"))
    assert len([p for p in sim if "-hits." in p.name]) == dm.n_events
    assert not list(sim_dir.glob(".simulating-*"))
    # The processed events honour the contract: track edges join hits of one particle.
    data = dm.datasets["train"][0]
    src, dst = data.track_edges
    assert bool((data.particle_id[src] == data.particle_id[dst]).all())
    assert data.truth_kind == "full" and data.weight.shape == (data.num_nodes,)
    # Second prepare: nothing simulated or processed again.
    mtimes = [p.stat().st_mtime_ns for p in sim]
    processed = sorted(dm.datasets["train"].files)
    ptimes = [p.stat().st_mtime_ns for p in processed]
    dm.prepare_data()
    assert [p.stat().st_mtime_ns for p in sim] == mtimes
    assert [p.stat().st_mtime_ns for p in processed] == ptimes


def test_preset_cache_is_topped_up(tmp_path: Path) -> None:
    small = TrackMLDataModule(preset="tiny", n_train=2, n_val=0, n_test=0,
                              data_root=str(tmp_path), progress=False)
    small.prepare_data()
    sim_dir = tmp_path / "sim" / "tiny-seed0"
    first = {p.name: p.stat().st_mtime_ns for p in sim_dir.glob("event*")}
    assert len(first) == 2 * 3  # hits, particles, truth
    dm = TrackMLDataModule(preset="tiny", n_train=3, n_val=1, n_test=0,
                           data_root=str(tmp_path), progress=False)
    dm.prepare_data()
    dm.setup()
    after = {p.name: p.stat().st_mtime_ns for p in sim_dir.glob("event*")}
    assert len(after) == 4 * 3 and all(after[k] == v for k, v in first.items())
    assert dm.datasets["train"].event_ids == [1000, 1001, 1002]
    assert dm.datasets["val"].event_ids == [1003] and "test" not in dm.datasets
    with pytest.raises(ValueError, match="the test split is empty"):
        dm.test_dataloader()


@pytest.mark.realdata
def test_real_folder_pt1_pixel(tmp_path: Path) -> None:
    real_dir = shared_data("trackml_real_partial")
    dm = TrackMLDataModule(input_dir=str(real_dir), benchmark="pt1_pixel", n_train=2, n_val=1, n_test=1,
                           data_root=str(tmp_path), batch_size=2, progress=False)
    _check_loaders(dm, (2, 1, 1))
    batch = next(iter(dm.train_dataloader()))
    assert batch.num_graphs == 2
    assert set(batch.volume_id.unique().tolist()) <= {7, 8, 9}
    assert dm.datasets["train"].event_ids == [1001, 1003]
