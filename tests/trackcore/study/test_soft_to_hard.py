"""The soft-to-hard study on stage events whose soft outputs are built from the truth."""

from __future__ import annotations

import pytest
import torch

from tests.ec.test_edge_classifier import tiny_graph_event
from trackcore.metrics import ParticlesOfInterest
from trackcore.study import plot_study, run_study
from trackcore.study.soft_to_hard import WALK_CUTS


def _stage(tmp_path):
    event = tiny_graph_event()  # 6 particles x 6 hits + 4 noise hits
    pid = event.particle_id
    particles = torch.unique(pid[pid != 0])
    index = torch.searchsorted(particles, pid)  # the particle's super-node (noise: any)
    n = event.num_nodes
    # every hit links to its particle's super-node (score 0.9) and the next two (0.3, 0.2)
    hit = torch.arange(n).repeat_interleave(3)
    sup = (index.repeat_interleave(3) + torch.tensor([0, 1, 2]).repeat(n)) % len(particles)
    score = torch.tensor([0.9, 0.3, 0.2]).repeat(n)
    score[(pid == 0).repeat_interleave(3)] = 0.15  # noise belongs nowhere
    event.bipartite_hit, event.bipartite_super, event.bipartite_score = hit, sup, score
    coords = torch.nn.functional.one_hot(index, len(particles)).float()
    coords[pid == 0] = torch.rand(int((pid == 0).sum()), len(particles), generator=torch.Generator().manual_seed(0)) + 3
    event.coords, event.beta = coords, torch.where(pid == 0, 0.01, 0.9)
    src, dst = event.edge_index
    event.edge_score = ((pid[src] == pid[dst]) & (pid[src] != 0)).float() * 0.9 + 0.05
    (tmp_path / "test").mkdir(parents=True)
    torch.save(event, tmp_path / "test" / "event000000001.pt")
    return tmp_path


def test_each_family_gets_its_knobs_and_truth_like_outputs_harden_perfectly(tmp_path):
    stage = _stage(tmp_path / "stage")
    table = run_study({"hgnn": stage, "oc": stage, "ec": stage}, poi=ParticlesOfInterest(min_pt=0.0))
    methods = {s: set(table[table.stage == s]["method"]) for s in ("hgnn", "oc", "ec")}
    assert {"threshold (shared hits)", "argmax (no sharing)", "top-2", "matching (1 hit/module)"} <= methods["hgnn"]
    assert not any(m.startswith(("CC", "connected")) for m in methods["oc"])  # an OC stage's edge scores are ec's
    assert methods["ec"] == {"connected components", "CC + walk"}
    knobs = {s: set(table[table.stage == s]["knob"]) for s in ("hgnn", "oc", "ec")}
    # HGNN's embedding variant also clusters (this stage's events carry coords)
    assert knobs == {"hgnn": {"threshold", "min_weight", "eps"}, "oc": {"eps", "t_d"}, "ec": {"cut"}}
    walk = table[(table.stage == "ec") & (table.method == "CC + walk")]
    assert list(walk["value"]) == list(WALK_CUTS)  # CC + walk along its cut, one row per cut

    def row(stage, method, value):
        rows = table[(table.stage == stage) & (table.method == method) & (table.value == value)]
        assert len(rows) == 1
        return rows.iloc[0]

    assert row("hgnn", "threshold (shared hits)", 0.5)["dm_efficiency"] == 1.0
    low = row("hgnn", "threshold (shared hits)", 0.1)  # every hit joins three tracks: purity 1/3, no DM match
    assert low["shared_hit_fraction"] == 1.0 and low["dm_efficiency"] == 0.0 and low["dm_fake_rate"] == 1.0
    assert row("hgnn", "argmax (no sharing)", 0.1)["shared_hit_fraction"] == 0.0
    assert row("hgnn", "top-2", 0.1)["shared_hit_fraction"] == 1.0
    assert row("oc", "DBSCAN min_samples=1", 0.1)["dm_efficiency"] == 1.0
    assert row("oc", "condensation t_beta=0.5", 0.5)["dm_efficiency"] == 1.0
    assert row("ec", "connected components", 0.5)["dm_efficiency"] == 1.0

    plots = plot_study(table, tmp_path / "plots")
    assert {p.name for p in plots} >= {"hgnn_threshold.png", "hgnn_min_weight.png", "oc_eps.png", "oc_t_d.png",
                                       "ec_cut.png"}


def test_a_stage_without_soft_outputs_is_named(tmp_path):
    stage = tmp_path / "raw"
    (stage / "test").mkdir(parents=True)
    event = tiny_graph_event()
    del event.edge_index
    torch.save(event, stage / "test" / "event000000001.pt")
    with pytest.raises(ValueError, match="none of the soft outputs"):
        run_study({"eggnet": stage})
