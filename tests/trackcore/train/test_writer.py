"""The stage writer saves each event (and its candidates) and never silently overwrites a previous output."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from tests.conftest import make_event
from trackcore.candidates import TrackCandidates
from trackcore.data import ProcessingConfig, process_event
from trackcore.train import StageWriter


def test_writes_events_and_candidates_and_refuses_to_overwrite(tmp_path):
    data = process_event(make_event(), ProcessingConfig())
    data.track_hit_id = data.hit_id[:4].clone()
    data.track_id = torch.tensor([0, 0, 1, 1])
    trainer = SimpleNamespace(datamodule=SimpleNamespace(predict_splits=["train", "test"]))
    writer = StageWriter(str(tmp_path))
    writer.write_on_batch_end(trainer, None, [data], None, None, 0, 1)
    path = tmp_path / "test" / "event000001000.pt"
    back = torch.load(path, weights_only=False)
    assert torch.equal(back.hit_id, data.hit_id)
    tracks = TrackCandidates.load(path.with_suffix(".tracks.csv"))
    assert tracks.n_tracks == 2 and tracks.hit_id.tolist() == data.hit_id[:4].tolist()
    with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
        writer.write_on_batch_end(trainer, None, [data], None, None, 0, 1)
    StageWriter(str(tmp_path), overwrite=True).write_on_batch_end(trainer, None, [data], None, None, 0, 1)
