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


def test_drop_true_edges_reaches_every_split(tmp_path):
    for split, event_id in (("train", 1), ("test", 2)):
        folder = tmp_path / split
        folder.mkdir(parents=True)
        data = process_event(make_event(seed=event_id), ProcessingConfig())
        data.edge_index = torch.cat([data.track_edges, data.track_edges.flip(0)], dim=1)  # all true
        torch.save(data, folder / f"event{event_id:09d}.pt")
    full = StageDataModule(input_dir=str(tmp_path))
    dropped = StageDataModule(input_dir=str(tmp_path), drop_true_edges=0.5)
    for dm in (full, dropped):
        dm.setup("fit")
    for split in ("train", "test"):
        n_full = full.datasets[split][0].edge_index.shape[1]
        assert dropped.datasets[split][0].edge_index.shape[1] == n_full - 2 * round(0.5 * n_full / 2)
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        StageDataModule(input_dir=str(tmp_path), drop_true_edges=-0.2)


def test_predict_only_restricts_the_written_splits_and_the_cli_names_bad_ones(tmp_path) -> None:
    from types import SimpleNamespace

    import trackcore.train.cli as train_cli
    from trackcore.data.split_loaders import SplitLoadersMixin

    class Splits(SplitLoadersMixin):
        def __init__(self) -> None:
            self.datasets = {"train": [1], "val": [2], "test": [3]}
            self.batch_size, self.loader_workers, self.seed = 1, 0, 0

    dm = Splits()
    assert dm.predict_splits == ["train", "val", "test"]
    dm.predict_only = ("test", "val")
    assert dm.predict_splits == ["val", "test"]  # the loaders' order, whatever the order given
    cli = SimpleNamespace(config={"subcommand": "predict", "predict": {"predict_splits": ["val", "tset"]}},
                          datamodule=Splits(), _get=lambda config, key: config["predict"][key])
    with pytest.raises(SystemExit):
        train_cli.TrackCLI.before_predict(cli)
    cli.config["predict"]["predict_splits"] = ["val"]
    train_cli.TrackCLI.before_predict(cli)
    assert cli.datamodule.predict_splits == ["val"]


def test_training_sectors_cut_only_fitted_training_events_never_predicted_ones(tmp_path):
    _write(tmp_path / "train", 1)
    whole = StageDataModule(input_dir=str(tmp_path))
    whole.setup("predict")
    n = whole.datasets["train"][0].num_nodes
    cut = StageDataModule(input_dir=str(tmp_path), train_sectors=4)
    cut.setup("fit")
    assert cut.datasets["train"][0].num_nodes < n
    cut.setup("predict")  # a stage's outputs are whole events
    assert cut.datasets["train"][0].num_nodes == n
