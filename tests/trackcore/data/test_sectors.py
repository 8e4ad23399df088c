"""Training on azimuthal sectors of whole events (trackcore.data.sectors)."""

from __future__ import annotations

import pytest
import torch

from trackcore.data.processing import get_benchmark, process_event
from trackcore.data.sectors import PhiSectors, crop_event
from trackcore.data.simulation import simulate_event


@pytest.fixture(scope="module")
def event():
    data = process_event(simulate_event("tiny", seed=2, event_id=1000), get_benchmark("full_pixel"))
    # a graph with a per-edge tensor, as a graph stage writes it: each hit to its 4 nearest hits
    dist = torch.cdist(data.pos, data.pos)
    nearest = dist.topk(5, largest=False).indices[:, 1:]
    data.edge_index = torch.stack([torch.arange(data.num_nodes).repeat_interleave(4), nearest.reshape(-1)])
    data.edge_score = torch.rand(data.edge_index.size(1), generator=torch.Generator().manual_seed(0))
    return data


def test_sectors_without_overlap_cover_every_hit_once(event):
    sectors = PhiSectors(n_sectors=4, overlap=0.0)
    inside = torch.stack([sectors.hits_in(event.pos, s) for s in range(4)])
    assert (inside.sum(0) >= 1).all() and (inside.sum(0) == 1).float().mean() > 0.99
    wide = PhiSectors(n_sectors=4, overlap=0.2)
    assert wide.hits_in(event.pos, 0).sum() > sectors.hits_in(event.pos, 0).sum()


def test_a_crop_keeps_the_sector_hits_and_their_graphs_renumbered(event):
    keep = PhiSectors(n_sectors=4, overlap=0.1).hits_in(event.pos, 1)
    out = crop_event(event, keep)
    hit_id = event.hit_id.numpy()
    assert out.num_nodes == int(keep.sum()) and (out.hit_id.numpy() == hit_id[keep.numpy()]).all()
    for key in ("x", "pos", "particle_id", "pt", "volume_id", "layer_id"):
        assert out[key].size(0) == out.num_nodes
    # every kept edge joins the same two hits (by hit id) as before, and no edge leaving the sector is kept
    e = event.edge_index
    inside = (keep[e[0]] & keep[e[1]]).numpy()
    before = {(int(a), int(b)) for a, b in hit_id[e.numpy()[:, inside]].T}
    after = {(int(a), int(b)) for a, b in out.hit_id.numpy()[out.edge_index.numpy()].T}
    assert after == before and out.edge_index.size(1) == inside.sum()
    assert out.edge_score.size(0) == out.edge_index.size(1)
    assert out.track_edges.max() < out.num_nodes
    truth_pairs = out.particle_id[out.track_edges]
    assert (truth_pairs[0] == truth_pairs[1]).all()
    nhits = dict(zip(out.particle_table_id.tolist(), out.particle_table_nhits.tolist(), strict=True))
    ids, counts = torch.unique(out.particle_id[out.particle_id != 0], return_counts=True)
    assert all(nhits[int(i)] == int(c) for i, c in zip(ids, counts, strict=True))
    assert len(out.particle_table_id) == len(event.particle_table_id)  # the tables keep every particle


def test_draws_are_seeded_and_bad_settings_named(event):
    a, b = PhiSectors(8, 0.1, seed=4), PhiSectors(8, 0.1, seed=4)
    assert [a(event).num_nodes for _ in range(5)] == [b(event).num_nodes for _ in range(5)]
    assert PhiSectors(n_sectors=1)(event) is event
    with pytest.raises(ValueError, match="n_sectors"):
        PhiSectors(n_sectors=0)
    with pytest.raises(ValueError, match="overlap"):
        PhiSectors(overlap=4.0)
    with pytest.raises(ValueError, match="per-edge tensor 'edge_bad'"):
        bad = event.clone()
        bad.edge_bad = torch.zeros(3)
        crop_event(bad, torch.ones(event.num_nodes, dtype=torch.bool))


def test_datamodules_cut_training_events_only(tmp_path):
    from trackcore.data.datamodule import TrackMLDataModule

    dm = TrackMLDataModule(preset="tiny", benchmark="full_pixel", data_root=str(tmp_path), progress=False,
                           workers=1, train_sectors=4, sector_overlap=0.05)
    dm.prepare_data()
    dm.setup()
    whole = TrackMLDataModule(preset="tiny", benchmark="full_pixel", data_root=str(tmp_path), progress=False,
                              workers=1)
    whole.setup()
    assert dm.datasets["train"][0].num_nodes < whole.datasets["train"][0].num_nodes / 2
    assert dm.datasets["val"][0].num_nodes == whole.datasets["val"][0].num_nodes
    assert dm.datasets["test"][0].num_nodes == whole.datasets["test"][0].num_nodes
    # predict writes whole events, the training split's too (a later stage cuts its own sectors)
    dm.setup("predict")
    assert dm.datasets["train"][0].num_nodes == whole.datasets["train"][0].num_nodes
