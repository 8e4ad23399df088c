"""The second building pass: components of the edges above a lower cut among the hits the first pass leaves."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tests.trackcore.builders.helpers import track_sets
from tests.trackcore.refinement.test_refine import event as two_helices
from trackcore.builders import EdgeComponents, LeftoverAssignment, LeftoverClusters, LeftoverComponents, taken_hits
from trackcore.candidates import TrackCandidates
from trackcore.refinement.refine import HelixRefinement
from trackcore.train import TrackingModule

HIT_ID = np.arange(13) + 100  # ids differ from indices


def scored_event() -> tuple[SimpleNamespace, dict[str, torch.Tensor]]:
    """Particle a (hits 0-5) joined by edges scoring 0.9, particle b (6-11) by edges scoring 0.3, an edge
    a-b (2-8) at 0.35 and the noise hit 12 joined to b (7) at 0.1."""
    edges = [(i, i + 1, 0.9) for i in range(5)] + [(i, i + 1, 0.3) for i in range(6, 11)]
    edges += [(2, 8, 0.35), (12, 7, 0.1)]
    src, dst, score = zip(*edges, strict=True)
    ev = SimpleNamespace(pos=torch.from_numpy(two_helices()), hit_id=torch.from_numpy(HIT_ID), num_nodes=13,
                         edge_index=torch.tensor([src, dst]))
    return ev, {"edge_score": torch.tensor(score)}


def ids(*indices: range) -> frozenset[int]:
    return frozenset(int(HIT_ID[i]) for r in indices for i in r)


def test_edges_at_taken_hits_never_join_and_the_cut_holds() -> None:
    ev, out = scored_event()
    taken = np.zeros(13, bool)
    taken[:6] = True  # the first pass holds a
    assert track_sets(LeftoverComponents(cut=0.2)(ev, out, taken)) == {ids(range(6, 12))}
    # cut 0 joins the noise hit to b, but the edge at a taken hit still never joins
    assert track_sets(LeftoverComponents(cut=0.0)(ev, out, taken)) == {ids(range(6, 13))}
    assert len(LeftoverComponents(cut=0.5)(ev, out, taken)) == 0
    # nothing taken: the 0.35 edge joins a and b
    assert track_sets(LeftoverComponents(cut=0.2)(ev, out)) == {ids(range(12))}


def test_bad_settings_and_inputs_are_named() -> None:
    ev, out = scored_event()
    with pytest.raises(ValueError, match="second pass cut"):
        LeftoverComponents(cut=1.5)
    with pytest.raises(ValueError, match="min_hits"):
        LeftoverComponents(min_hits=-1)
    with pytest.raises(ValueError, match="taken must mark each of the event's 13 hits"):
        LeftoverComponents()(ev, out, np.zeros(5, bool))
    with pytest.raises((KeyError, ValueError), match="edge_score"):
        LeftoverComponents()(ev, {})


def test_taken_hits_marks_the_hits_of_candidates_by_id() -> None:
    cands = TrackCandidates(np.array([101, 103, 112]), np.array([0, 0, 1]))
    assert taken_hits(HIT_ID, cands).nonzero()[0].tolist() == [1, 3, 12]


class Scored(TrackingModule):
    """The first pass: connected components of the edges above 0.5."""

    BUILDS_TRACKS = True

    def infer(self, event):
        return {}


def module(**kwargs) -> Scored:
    return Scored(model=torch.nn.Linear(1, 1), builder=EdgeComponents(cut=0.5), **kwargs)


def test_the_module_adds_the_refined_second_pass_to_the_first_pass() -> None:
    ev, out = scored_event()
    one_pass = module(refine=HelixRefinement())
    assert track_sets(one_pass.tracks(ev, out)) == {ids(range(6))}
    two_pass = module(refine=HelixRefinement(), second_pass=LeftoverComponents(cut=0.2))
    assert track_sets(two_pass.tracks(ev, out)) == {ids(range(6)), ids(range(6, 12))}
    # the validation scan judges each setting after the refinement alone, then the chosen one with the second pass
    item = SimpleNamespace(event=ev, outputs=out, memo={})
    assert track_sets(two_pass._scan_refinement(item)(two_pass.build_tracks(ev, out))) == {ids(range(6))}
    assert track_sets(two_pass._scan_final(item, two_pass.builder)) == {ids(range(6)), ids(range(6, 12))}
    # the second pass's candidates are refined: the noise hit joined at cut 0 is cleaned off b
    loose = module(refine=HelixRefinement(), second_pass=LeftoverComponents(cut=0.0))
    assert track_sets(loose.tracks(ev, out)) == {ids(range(6)), ids(range(6, 12))}


def test_join_passes_merges_a_particle_split_between_the_passes_or_the_searches() -> None:
    ev, out = scored_event()
    out = {"edge_score": torch.tensor([0.9, 0.9, 0.1, 0.3, 0.3] + [0.9] * 5 + [0.35, 0.1])}  # a: 0-2 | 3-5
    split = module(refine=HelixRefinement(extend=False), second_pass=LeftoverComponents(cut=0.2))
    assert track_sets(split.tracks(ev, out)) == {ids(range(3)), ids(range(3, 6)), ids(range(6, 12))}
    joined = module(refine=HelixRefinement(extend=False, join_passes=True), second_pass=LeftoverComponents(cut=0.2))
    assert track_sets(joined.tracks(ev, out)) == {ids(range(6)), ids(range(6, 12))}
    # one pass: the model's candidate and a helix that the refinement's search found on the hits it left
    searched = module(refine=HelixRefinement(extend=False, recover=True))
    assert track_sets(searched.tracks(ev, out)) == {ids(range(3)), ids(range(3, 6)), ids(range(6, 12))}
    joined = module(refine=HelixRefinement(extend=False, recover=True, join_passes=True))
    assert track_sets(joined.tracks(ev, out)) == {ids(range(6)), ids(range(6, 12))}


def test_a_second_pass_needs_a_builder_and_the_refinement() -> None:
    with pytest.raises(ValueError, match="second_pass needs a builder and refine"):
        module(second_pass=LeftoverComponents())
    with pytest.raises(ValueError, match="second_pass must be a trackcore.builders.SecondPass.*EdgeComponents"):
        module(refine=HelixRefinement(), second_pass=EdgeComponents())
    with pytest.raises(ValueError, match="or a list of them .got EdgeComponents"):
        module(refine=HelixRefinement(), second_pass=[LeftoverComponents(), EdgeComponents()])


def test_passes_in_a_list_run_in_turn_each_over_what_the_ones_before_leave() -> None:
    ev, out = scored_event()
    # b's edges score 0.3: a pass at 0.4 finds nothing, the one after it at 0.2 finds b
    assert track_sets(module(refine=HelixRefinement(), second_pass=[LeftoverComponents(cut=0.4)]).tracks(ev, out)) \
        == {ids(range(6))}
    passes = [LeftoverComponents(cut=0.4), LeftoverComponents(cut=0.2)]
    tracks = module(refine=HelixRefinement(), second_pass=passes).tracks(ev, out)
    assert track_sets(tracks) == {ids(range(6)), ids(range(6, 12))} and tracks.n_shared_hits() == 0
    # a later pass never takes what an earlier one built: at 0.0 after 0.2, b is not built twice
    passes = [LeftoverComponents(cut=0.2), LeftoverComponents(cut=0.0)]
    assert len(module(refine=HelixRefinement(), second_pass=passes).tracks(ev, out)) == 12


def clustered_event() -> tuple[SimpleNamespace, dict[str, torch.Tensor]]:
    """Cluster coordinates: a's hits (0-5) near (0, 0), b's (6-11) near (1, 0), the noise hit 12 at (5, 5)."""
    rng = np.random.default_rng(0)
    coords = np.concatenate([rng.normal(0, 0.01, (6, 2)), rng.normal(0, 0.01, (6, 2)) + [1.0, 0.0], [[5.0, 5.0]]])
    ev = SimpleNamespace(pos=torch.from_numpy(two_helices()), hit_id=torch.from_numpy(HIT_ID), num_nodes=13)
    return ev, {"coords": torch.from_numpy(coords).float()}


def test_leftover_clusters_cluster_only_the_hits_left() -> None:
    ev, out = clustered_event()
    taken = np.zeros(13, bool)
    taken[:6] = True
    assert track_sets(LeftoverClusters(eps=0.1)(ev, out, taken)) == {ids(range(6, 12))}
    assert track_sets(LeftoverClusters(eps=0.1)(ev, out)) == {ids(range(6)), ids(range(6, 12))}
    assert track_sets(LeftoverClusters(eps=2.0)(ev, out, taken)) == {ids(range(6, 12))}  # a's hits never join b
    assert len(LeftoverClusters(eps=0.1)(ev, out, np.ones(13, bool))) == 0
    with pytest.raises(ValueError, match="eps"):
        LeftoverClusters(eps=0.0)
    with pytest.raises(ValueError, match="taken must mark each of the event's 13 hits"):
        LeftoverClusters()(ev, out, np.zeros(3, bool))
    with pytest.raises((KeyError, ValueError), match="coords"):
        LeftoverClusters()(ev, {})


def test_leftover_assignment_hardens_only_the_scores_of_the_hits_left() -> None:
    ev = SimpleNamespace(hit_id=torch.from_numpy(HIT_ID), num_nodes=13)
    # a's hits (0-5) on super-node 0 at 0.9; b's (6-11) on super-node 1 at 0.6 and on 0 at 0.3; noise on 2 at 0.8
    hit = list(range(6)) + list(range(6, 12)) * 2 + [12]
    sup = [0] * 6 + [1] * 6 + [0] * 6 + [2]
    score = [0.9] * 6 + [0.6] * 6 + [0.3] * 6 + [0.8]
    out = {"bipartite_hit": torch.tensor(hit), "bipartite_super": torch.tensor(sup),
           "bipartite_score": torch.tensor(score)}
    taken = np.zeros(13, bool)
    taken[:6] = True
    assert track_sets(LeftoverAssignment()(ev, out, taken)) == {ids(range(6, 12))}
    assert track_sets(LeftoverAssignment()(ev, out)) == {ids(range(6)), ids(range(6, 12))}
    assert len(LeftoverAssignment(method="threshold", threshold=0.7)(ev, out, taken)) == 0
    with pytest.raises(ValueError, match="threshold"):
        LeftoverAssignment(threshold=2.0)
    with pytest.raises((KeyError, ValueError), match="bipartite"):
        LeftoverAssignment()(ev, {})


def test_the_validation_scan_judges_settings_in_one_pass_and_reports_the_chosen_ones_final_tracks() -> None:
    from trackcore.builders import ScanEvent
    from trackcore.metrics import EventTruth, ParticlesOfInterest
    from trackcore.train.builder_scan import ValidationScan

    ev, out = scored_event()
    truth = EventTruth(hit_id_j=HIT_ID, particle_id_j=np.r_[np.full(6, 1), np.full(6, 2), 0],
                       particle_id_p=np.array([1, 2]), pt_p=np.array([2.0, 2.0]), eta_p=np.array([0.4, 0.45]))
    two_pass = module(refine=HelixRefinement(), second_pass=LeftoverComponents(cut=0.2))
    scan = ValidationScan(EdgeComponents(cut=0.5), {"cut": [0.5, 0.9]})
    poi = ParticlesOfInterest(min_pt=1.0)
    results = []
    for final in (None, two_pass._scan_final):
        scan._events = [(7, ScanEvent(ev, out, truth))]
        results.append(scan.run(lambda items: items, two_pass._scan_refinement, poi, final=final))
    one, two = results
    assert one.builder == two.builder == EdgeComponents(cut=0.5)  # a chooses the cut; b's edges never pass it
    assert one.evaluations[7].summary()["dm_efficiency"] == 0.5  # the scan's own: a alone
    assert two.evaluations[7].summary()["dm_efficiency"] == 1.0  # the chosen setting's final tracks: a and b


def test_the_scans_final_tracks_reuse_the_search_memo_of_its_refinements(monkeypatch) -> None:
    from tests.trackcore.refinement.helpers import count_searches
    from trackcore.builders import ScanEvent
    from trackcore.metrics import EventTruth, ParticlesOfInterest
    from trackcore.train.builder_scan import ValidationScan

    ev, out = scored_event()
    truth = EventTruth(hit_id_j=HIT_ID, particle_id_j=np.r_[np.full(6, 1), np.full(6, 2), 0],
                       particle_id_p=np.array([1, 2]), pt_p=np.array([2.0, 2.0]), eta_p=np.array([0.4, 0.45]))
    searching = module(refine=HelixRefinement(recover=True), second_pass=LeftoverComponents(cut=0.2))
    item = ScanEvent(ev, out, truth)
    scan = ValidationScan(EdgeComponents(cut=0.5), {"cut": [0.5, 0.9]})
    scan._events = [(7, item)]
    searched = count_searches(monkeypatch)
    outcome = scan.run(lambda items: items, searching._scan_refinement, ParticlesOfInterest(min_pt=1.0),
                       final=searching._scan_final)
    assert len(item.memo) == sum(searched) > 0  # the settings' and the final tracks' searches, each once
    searched.clear()
    again = searching._scan_final(item, outcome.builder)
    assert searched == []  # the chosen setting's tracks again: every neighbourhood known
    assert track_sets(again) == track_sets(searching.tracks(ev, out, outcome.builder))  # as with a new memo
    assert item == ScanEvent(ev, out, truth)  # the memo is no part of what the event is
