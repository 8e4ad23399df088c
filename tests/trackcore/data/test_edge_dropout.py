"""Dropping a fraction of the true input-graph edges (HGNN's robustness test)."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from trackcore.data.edge_dropout import DropTrueEdges


def _event(event_id: int = 3) -> Data:
    g = torch.Generator().manual_seed(0)
    n = 200
    pid = torch.randint(0, 20, (n,), generator=g)  # 0 = noise
    src, dst = torch.randint(0, n, (2, 3000), generator=g)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    # add the reverse of every edge, so every undirected pair appears twice
    edge_index = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], dim=1)
    e = edge_index.size(1)
    return Data(x=torch.randn(n, 3), particle_id=pid, edge_index=edge_index, edge_score=torch.rand(e, generator=g),
                edge_distance=torch.rand(e, generator=g), track_edges=torch.zeros(2, 5, dtype=torch.long),
                event_id=torch.tensor([event_id]), num_nodes=n)


def _pairs(edge_index: torch.Tensor, pid: torch.Tensor, true: bool) -> set[tuple[int, int]]:
    src, dst = edge_index
    mask = (pid[src] == pid[dst]) & (pid[src] != 0)
    mask = mask if true else ~mask
    return {(min(a, b), max(a, b)) for a, b in zip(src[mask].tolist(), dst[mask].tolist(), strict=True)}


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5])
def test_drops_the_fraction_of_true_pairs_both_directions_and_nothing_else(fraction):
    event = _event()
    out = DropTrueEdges(fraction)(event)
    true_before = _pairs(event.edge_index, event.particle_id, True)
    true_after = _pairs(out.edge_index, out.particle_id, True)
    assert true_after < true_before
    assert len(true_before) - len(true_after) == round(fraction * len(true_before))
    assert _pairs(out.edge_index, out.particle_id, False) == _pairs(event.edge_index, event.particle_id, False)
    # a dropped pair loses both directions: every remaining edge's reverse remains
    kept = set(map(tuple, out.edge_index.t().tolist()))
    assert all((b, a) in kept for a, b in kept)


def test_per_edge_tensors_follow_and_the_rest_is_untouched():
    event = _event()
    out = DropTrueEdges(0.3)(event)
    keep = DropTrueEdges(0.3).keep_mask(event.edge_index, event.particle_id, 3)
    assert torch.equal(out.edge_score, event.edge_score[keep])
    assert torch.equal(out.edge_distance, event.edge_distance[keep])
    assert torch.equal(out.track_edges, event.track_edges) and torch.equal(out.x, event.x)
    assert event.edge_index.size(1) == 2 * (event.edge_index.size(1) // 2)  # the input is not modified


def test_seeded_by_event_and_seed():
    event = _event()
    a, b = DropTrueEdges(0.2)(event), DropTrueEdges(0.2)(event)
    assert torch.equal(a.edge_index, b.edge_index)
    other_event = DropTrueEdges(0.2)(_event(event_id=4))
    other_seed = DropTrueEdges(0.2, seed=1)(event)
    assert not torch.equal(a.edge_index, other_event.edge_index)
    assert not torch.equal(a.edge_index, other_seed.edge_index)


def test_zero_is_the_identity_and_bad_values_fail():
    event = _event()
    assert DropTrueEdges(0.0)(event) is event
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match=r"in \[0, 1\)"):
            DropTrueEdges(bad)
    with pytest.raises(ValueError, match="edge_index"):
        DropTrueEdges(0.1)(Data(x=torch.zeros(3, 1), particle_id=torch.zeros(3, dtype=torch.long)))
