"""Reading a stage's outputs: the splits it wrote, and clear errors for missing folders."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import make_event
from trackcore.data import DataError, ProcessingConfig, process_event
from trackcore.data.stage_datamodule import StageDataModule


def _write(folder, event_id):
    folder.mkdir(parents=True, exist_ok=True)
    data = process_event(make_event(seed=event_id), ProcessingConfig())
    torch.save(data, folder / f"event{event_id:09d}.pt")


def test_reads_the_splits_it_finds(tmp_path):
    for split, ids in {"train": [1, 2, 3], "val": [4]}.items():
        for i in ids:
            _write(tmp_path / split, i)
    dm = StageDataModule(input_dir=str(tmp_path))
    dm.setup("fit")
    assert dm.predict_splits == ["train", "val"]
    assert len(dm.train_dataloader()) == 3 and len(dm.val_dataloader()) == 1
    with pytest.raises(DataError, match="has no test/ split of stage outputs"):
        dm.test_dataloader()


def test_missing_folder_or_train_split(tmp_path):
    with pytest.raises(DataError, match=r"missing.*stage output folder not found"):
        StageDataModule(input_dir=str(tmp_path / "missing")).setup("fit")
    _write(tmp_path / "val", 1)
    with pytest.raises(DataError, match="has no train/ split"):
        StageDataModule(input_dir=str(tmp_path)).setup("fit")
