"""Missed particles counted by where they were lost (graph, scores, building) and by origin."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from trackcore.candidates import TrackCandidates
from trackcore.metrics.misses import MissCounts, missed_particles


def event() -> Data:
    """Four pT 2 GeV particles of 3-4 hits and a noise hit (12):
    1 (hits 0-3) found; 2 (4-6) loses its edge 5-6 from the graph; 3 (7-9, displaced 20 mm) has
    edge 8-9 scored 0.2; 4 (10-11, 13) has a perfect graph and scores but no candidate."""
    pid = [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 0, 4]
    chains = [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (7, 8), (8, 9), (10, 11), (11, 13)]
    graph = [e for e in chains if e != (5, 6)] + [(3, 12), (6, 7)]
    score = [0.9] * len(graph)
    score[graph.index((8, 9))] = 0.2
    both = graph + [(b, a) for a, b in graph]  # both directions, as the graph builders write
    return Data(
        hit_id=torch.arange(100, 114),
        particle_id=torch.tensor(pid),
        particle_table_id=torch.tensor([1, 2, 3, 4]),
        particle_table_pt=torch.full((4,), 2.0),
        particle_table_eta=torch.zeros(4),
        particle_table_vertex=torch.tensor([[0.0, 0.1, 5.0], [0.2, 0.0, 0.0], [20.0, 0.0, 0.0],
                                            [math.nan, math.nan, math.nan]]),
        track_edges=torch.tensor(chains).T,
        edge_index=torch.tensor(both).T,
        edge_score=torch.tensor(score + score),
        num_nodes=14,
    )


def candidates(*tracks: list[int]) -> TrackCandidates:
    return TrackCandidates(np.concatenate([np.array(t) + 100 for t in tracks]),
                           np.repeat(np.arange(len(tracks)), [len(t) for t in tracks]))


def test_each_miss_is_put_where_it_was_lost_and_by_origin() -> None:
    c = missed_particles(event(), candidates([0, 1, 2, 3], [4, 5]))
    assert dict(c.total) == {"prompt": 3, "displaced": 1}  # an unknown vertex counts as prompt
    assert dict(c.missed) == {("prompt", "graph"): 1, ("displaced", "scores"): 1, ("prompt", "unassigned"): 1}
    assert c.efficiency() == pytest.approx(0.25)
    assert c.efficiency("prompt") == pytest.approx(1 / 3) and c.efficiency("displaced") == 0.0
    # a lower edge cut keeps particle 3's edge: it is lost in building instead
    low = missed_particles(event(), candidates([0, 1, 2, 3]), edge_cut=0.1)
    assert low.missed[("displaced", "unassigned")] == 1 and low.missed[("displaced", "scores")] == 0


def test_without_a_graph_misses_are_unassigned_split_or_merged_and_counts_pool() -> None:
    e = event()
    del e.edge_index, e.edge_score
    c = missed_particles(e, candidates([10, 11, 13]))
    assert dict(c.missed) == {("prompt", "unassigned"): 2, ("displaced", "unassigned"): 1}
    # 1 cut in halves (each with the noise hit): split; 4 inside a candidate mostly of 1: merged (1 is found)
    split = missed_particles(e, candidates([0, 1, 12], [2, 3, 12]))
    assert split.missed[("prompt", "split")] == 1
    merged = missed_particles(e, candidates([0, 1, 2, 3, 10, 11, 13]))
    assert merged.missed[("prompt", "merged")] == 1 and merged.missed[("prompt", "unassigned")] == 1
    pooled = MissCounts().add(c).add(c)
    assert pooled.total["prompt"] == 6 and pooled.efficiency() == pytest.approx(0.25)
    assert math.isnan(MissCounts().efficiency())


def test_the_script_tables_a_stage_and_names_a_stage_without_candidates(tmp_path, capsys) -> None:
    import importlib.util
    import json
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "missed_particles", Path(__file__).resolve().parents[3] / "benchmarks" / "missed_particles.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    e = event()
    (tmp_path / "stage" / "test").mkdir(parents=True)
    torch.save(e.clone(), tmp_path / "stage" / "test" / "event000000001.pt")
    assert script.main([str(tmp_path / "stage"), "--out", str(tmp_path / "out")]) == 2
    assert "no track candidates" in capsys.readouterr().err
    found = candidates([0, 1, 2, 3], [4, 5])
    e.track_hit_id, e.track_id = torch.from_numpy(found.hit_id), torch.from_numpy(found.track_id)
    torch.save(e, tmp_path / "stage" / "test" / "event000000001.pt")
    assert script.main([str(tmp_path / "stage"), "--out", str(tmp_path / "out")]) == 0
    payload = json.loads((tmp_path / "out" / "missed_particles.json").read_text())
    missed = payload[str(tmp_path / "stage")]["missed"]
    assert missed == {"prompt/graph": 1, "displaced/scores": 1, "prompt/unassigned": 1}
    assert "| all | 4 | 25.00% | 1 | 1 | 1 | 0 | 0 |" in (tmp_path / "out" / "missed_particles.md").read_text()
