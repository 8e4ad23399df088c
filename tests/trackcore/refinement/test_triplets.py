"""The triplet-seeded search off the beam line (``refine.triplets``): its seeding against a plain reference, secondaries
among noise, its place in the refinement, its settings and ``trackcore quality fit --triplets``."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from tests.trackcore.builders.helpers import track_sets
from tests.trackcore.refinement.test_displaced import LAYERS, layered, secondary
from trackcore.candidates import TrackCandidates
from trackcore.cli import main
from trackcore.refinement import steps
from trackcore.refinement.finder import DisplacedSearch
from trackcore.refinement.helix import HelixCheck, helix_radius
from trackcore.refinement.refine import HelixRefinement
from trackcore.refinement.triplets import TripletSearch, compatible_triplets, triplet_neighbours

CHECK = HelixCheck(0.15, 0.5, 6.0)
RULES = {"window": 0.6, "min_gap": 20.0, "max_gap": 250.0, "max_d0": 40.0, "min_radius": 1000.0,
         "max_dtheta": 0.005, "max_eta": 4.0}


def reference(q: np.ndarray, layer: np.ndarray, window: float, min_gap: float, max_gap: float, max_d0: float,
              min_radius: float, max_dtheta: float, max_eta: float,
              max_z0: float | None = None) -> set[tuple[int, int, int]]:
    """The module's rules, written out once per ordered triple of points (slow: small sets only)."""
    r3, rr, phi = np.linalg.norm(q, axis=1), np.hypot(q[:, 0], q[:, 1]), np.arctan2(q[:, 1], q[:, 0])

    def doublet_theta(m: int, o: int, inner: int, outer: int) -> float | None:
        """The polar angle of the doublet of ``m`` and ``o`` (inner to outer), or None where a rule fails."""
        gap = np.linalg.norm(q[o] - q[m])
        dphi = abs((phi[o] - phi[m] + math.pi) % (2 * math.pi) - math.pi)
        d = q[outer] - q[inner]
        dxy = math.hypot(d[0], d[1])
        if layer[o] < 0 or layer[o] == layer[m] or dphi > window or not min_gap <= gap <= max_gap or dxy == 0:
            return None
        if max_z0 is not None and (rr[o] == rr[m] or abs(q[m, 2] - rr[m] * (q[o, 2] - q[m, 2]) / (rr[o] - rr[m]))
                                   > max_z0):
            return None  # the doublet's (r, z) line meets the beam line beyond max_z0
        ux, uy = d[0] / dxy, d[1] / dxy
        reach = max_d0 + rr[m] ** 2 / (2 * min_radius)
        if abs(q[m, 0] * uy - q[m, 1] * ux) > reach or q[m, 0] * ux + q[m, 1] * uy < 0:
            return None
        return None if abs(d[2] / dxy) > np.sinh(max_eta) else math.atan(d[2] / dxy)

    out = set()
    for b, m, t in itertools.permutations(range(len(q)), 3):
        if layer[m] < 0 or not r3[b] < r3[m] < r3[t]:
            continue
        lower, upper = doublet_theta(m, b, b, m), doublet_theta(m, t, m, t)
        if lower is None or upper is None or abs(lower - upper) > max_dtheta:
            continue
        a, c = q[m, :2] - q[b, :2], q[t, :2] - q[b, :2]
        den = 2 * (a[0] * c[1] - a[1] * c[0])
        if den == 0:
            continue
        centre = np.array([c[1] * (a @ a) - a[1] * (c @ c), a[0] * (c @ c) - c[0] * (a @ a)]) / den  # from b
        radius = np.hypot(*centre)
        if radius >= min_radius and abs(np.hypot(*(centre + q[b, :2])) - radius) <= max_d0:
            out.add((b, m, t))
    return out


def scene(seed: int = 0, n_noise: int = 40) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Two 4-layer secondaries (made 10 mm out, ~5 and ~20 mm off the beam line) and noise on the barrel layers
    in their azimuth: positions, layer rows and each secondary's hit indices."""
    rng = np.random.default_rng(seed)
    one = secondary(2.0, (10.0 * np.cos(0.2), 10.0 * np.sin(0.2), 5.0), 0.6, 0.3)
    two = secondary(1.5, (-7.0, 7.0, -20.0), 0.2, -0.4, charge=-1)
    radius = rng.choice(LAYERS, n_noise)
    angle = rng.uniform(-0.2, 0.8, n_noise)
    noise = np.stack([radius * np.cos(angle), radius * np.sin(angle), rng.uniform(-150, 150, n_noise)], 1)
    pos = np.concatenate([one, two, noise])
    layer = np.searchsorted(LAYERS, np.hypot(pos[:, 0], pos[:, 1]) - 1.0)
    return pos, layer, [np.arange(4), np.arange(4, 8)]


def test_the_seeding_matches_its_rules_written_out() -> None:
    pos, layer, _ = scene(n_noise=30)
    for rules in (RULES, {**RULES, "max_dtheta": 0.05, "min_radius": 300.0}, {**RULES, "window": 4.0}):
        got = compatible_triplets(pos, layer, **rules)
        assert len(got) == len({tuple(t) for t in got.tolist()})  # each once
        assert {tuple(t) for t in got.tolist()} == reference(pos, layer, **rules)
    loose = compatible_triplets(pos, layer, **{**RULES, "max_dtheta": 0.05})
    assert {(0, 1, 2), (1, 2, 3), (4, 5, 6), (5, 6, 7)} <= {tuple(t) for t in loose.tolist()}


def test_max_z0_keeps_the_doublets_whose_line_meets_the_beam_line_near_the_origin() -> None:
    pos, layer, _ = scene(n_noise=30)
    far = secondary(2.0, (0.1, 0.1, 300.0), 1.0, 0.2)  # a particle made on the beam line 300 mm from the origin
    pos = np.concatenate([pos, far])
    layer = np.concatenate([layer, np.searchsorted(LAYERS, np.hypot(far[:, 0], far[:, 1]) - 1.0)])
    f = len(pos) - 4 + np.arange(4)
    every = {tuple(t) for t in compatible_triplets(pos, layer, **RULES).tolist()}
    assert (f[0], f[1], f[2]) in every
    for max_z0 in (30.0, 100.0, 400.0):
        got = {tuple(t) for t in compatible_triplets(pos, layer, **RULES, max_z0=max_z0).tolist()}
        assert got == reference(pos, layer, **RULES, max_z0=max_z0)
        assert ((f[0], f[1], f[2]) in got) == (max_z0 > 300.0)
        assert {(0, 1, 2), (1, 2, 3), (4, 5, 6), (5, 6, 7)} & every <= got  # made at z 5 and -20 mm
    assert {tuple(t) for t in compatible_triplets(pos, layer, **RULES, max_z0=None).tolist()} == every
    with pytest.raises(ValueError, match="triplets max_z0"):
        TripletSearch(max_z0=0.0)


def test_points_on_no_layer_and_tiny_sets() -> None:
    pos, layer, _ = scene()
    assert compatible_triplets(pos[:2], layer[:2], **RULES).shape == (0, 3)
    off = layer.copy()
    off[1] = -1  # the second layer's hit of the first secondary is on no layer: no triplet uses it
    assert 1 not in compatible_triplets(pos, off, **RULES)
    with pytest.raises(ValueError, match="one layer per point"):
        compatible_triplets(pos, layer[:-1], **RULES)
    with pytest.raises(ValueError, match="finite points"):
        compatible_triplets(np.full((4, 3), np.nan), np.zeros(4, np.int64), **RULES)


def test_neighbours_most_shared_first() -> None:
    triplets = np.array([[0, 1, 2], [1, 2, 3], [0, 1, 3], [4, 1, 2]])
    q = np.arange(15, dtype=np.float64).reshape(5, 3)
    query, near = triplet_neighbours(triplets, q)
    assert (np.diff(query) >= 0).all()
    assert near[query == 1].tolist() == [2, 0, 3, 4]  # shares 3, 2, 2 (nearer first), 1 triplets
    assert triplet_neighbours(np.zeros((0, 3), np.int64), q)[0].shape == (0,)


def test_secondaries_among_noise_are_found_where_the_direction_search_fails() -> None:
    pos, layer, truth = scene(n_noise=400)
    free = np.arange(len(pos))
    rows = steps.hit_layers(len(pos), *layered(pos), (7, 8, 9))
    found = TripletSearch(min_layers=4, min_pt=0.0).find(pos, free, rows, CHECK, 3, 60)
    assert {frozenset(t) for t in truth} <= {frozenset(f.tolist()) for f in found}
    assert len(found) == 2  # no helix of noise on 4 layers
    # the secondary farther off the beam line turns in direction seen from the origin: there its nearest free
    # hits are noise
    direction = DisplacedSearch(min_layers=4, min_pt=0.0).finder(CHECK, 3, 60).recover(pos, free)
    assert frozenset(truth[1].tolist()) not in {frozenset(f.tolist()) for f in direction}


def test_a_later_search_on_fewer_free_hits_filters_the_memo_triplets() -> None:
    pos, _, truth = scene(n_noise=400)
    rows = steps.hit_layers(len(pos), *layered(pos), (7, 8, 9))
    search = TripletSearch(min_layers=4, min_pt=0.0)
    memo: dict = {}
    search.find(pos, np.arange(len(pos)), rows, CHECK, 3, 60, memo=memo)
    assert len(memo) > 2 and any(key.startswith(b"triplets ") for key in memo)
    fewer = np.setdiff1d(np.arange(len(pos)), np.r_[truth[0][1], np.arange(20, 40)])  # a hit of one taken since
    again = search.find(pos, fewer, rows, CHECK, 3, 60, memo=memo)
    alone = search.find(pos, fewer, rows, CHECK, 3, 60)
    assert [t.tolist() for t in again] == [t.tolist() for t in alone]
    assert frozenset(truth[1].tolist()) in {frozenset(t.tolist()) for t in again}
    assert frozenset(truth[0].tolist()) not in {frozenset(t.tolist()) for t in again}
    # the seeding itself: the memo's triplets filtered equal those seeded on the fewer hits
    radius = helix_radius(search.search_min_pt, search.field_t)
    filtered = search._triplets(pos, fewer, rows[1], radius, CHECK.max_eta, memo)
    fresh = search._triplets(pos, fewer, rows[1], radius, CHECK.max_eta, None)
    assert len(fresh) and {tuple(t) for t in filtered.tolist()} == {tuple(t) for t in fresh.tolist()}
    moved = rows[1].copy()
    moved[truth[1]] = -1  # other layers (another layer table): seeded again, not filtered from the memo
    assert len(search._triplets(pos, fewer, moved, radius, CHECK.max_eta, memo)) < len(fresh)
    assert {tuple(t) for t in search._triplets(pos, fewer, moved, radius, CHECK.max_eta, memo).tolist()} == {
        tuple(t) for t in search._triplets(pos, fewer, moved, radius, CHECK.max_eta, None).tolist()}
    every = search._triplets(pos, np.arange(len(pos)), rows[1], radius, CHECK.max_eta, None)
    assert len(every) > len(fresh)  # the taken hits made triplets


def test_the_refinement_runs_it_after_the_other_searches() -> None:
    pos, _, truth = scene(n_noise=400)
    volume, layer_id = layered(pos)
    settings = {"max_holes": 1, "span_holes_from": 5, "min_layers": 3, "short_d0": (3, 0.5), "recover": True}
    plain = HelixRefinement(**settings)(TrackCandidates.empty(), pos, volume_id=volume, layer_id=layer_id)
    assert not {frozenset(t) for t in truth} & track_sets(plain)
    out = HelixRefinement(**settings, triplets={"min_pt": 0.0})(TrackCandidates.empty(), pos, volume_id=volume,
                                                                layer_id=layer_id)
    assert {frozenset(t.tolist()) for t in truth} <= track_sets(out)
    held = HelixRefinement(**settings, triplets={"min_pt": 0.0})(
        TrackCandidates(np.arange(4), np.zeros(4, np.int64)), pos, volume_id=volume, layer_id=layer_id)
    assert frozenset(range(4)) in track_sets(held) and frozenset(range(4, 8)) in track_sets(held)
    assert HelixRefinement(triplets=TripletSearch()).triplets == TripletSearch()


@pytest.mark.parametrize(("settings", "message"), [
    ({"nope": 1}, r"unknown setting\(s\) \['nope'\]"),
    ({"min_gap": 300.0}, "min_gap must be below max_gap"),
    ({"max_fake_prob": 0.0}, r"max_fake_prob must lie in \(0, 1\]"),
    ({"neighbors": 2}, "neighbors"),
    ({"max_dtheta": -1.0}, "max_dtheta"),
    ({"quality_model": "/no/such.pkl"}, "such.pkl: no quality model there"),
])
def test_bad_settings_are_named(settings: dict, message: str) -> None:
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        HelixRefinement(triplets=settings)
    with pytest.raises(ValueError, match="mapping of TripletSearch settings"):
        TripletSearch.of(3)


def write_stage(folder: Path, n_events: int) -> None:
    """Stage events whose candidates hold nothing: two secondaries each (particles 1, 2) and two helices of
    noise hits (particle 0) among the noise, with the refinement recorded in ``stage.json``."""
    (folder / "train").mkdir(parents=True)
    (folder / "stage.json").write_text(json.dumps({"refine": {"max_holes": 1, "min_layers": 3, "recover": True,
                                                              "displaced": "an old record's string"}}))
    for e in range(n_events):
        pos, _, _ = scene(seed=e, n_noise=100)
        fakes = [secondary(3.0, (-8.0, -5.0, 10.0 * k), -2.5 + k, 0.1 * k) for k in (1, 2)]
        pos = np.concatenate([pos[:8], *fakes, pos[8:]])
        pid = np.r_[np.repeat([1, 2], 4), np.zeros(len(pos) - 8, np.int64)]
        n = len(pos)
        volume, layer_id = layered(pos)
        data = Data(hit_id=torch.arange(n) + 1, pos=torch.tensor(pos, dtype=torch.float32),
                    particle_id=torch.tensor(pid), particle_table_id=torch.tensor([1, 2]),
                    particle_table_pt=torch.full((2,), 2.0), particle_table_eta=torch.zeros(2),
                    volume_id=torch.tensor(volume), layer_id=torch.tensor(layer_id),
                    track_hit_id=torch.tensor([n]), track_id=torch.tensor([0]), num_nodes=n)
        torch.save(data, folder / "train" / f"event{1000 + e:09d}.pt")


def test_quality_fit_on_the_triplet_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stage = tmp_path / "stage"
    write_stage(stage, 3)
    model = tmp_path / "t.pkl"
    assert main(["quality", "fit", str(stage), "--model", str(model), "--triplets", '{"min_pt": 0.5}']) == 0
    assert "fitted on 12 candidates (6 fakes) of 3 events" in capsys.readouterr().out
    assert HelixRefinement(triplets={"quality_model": str(model)}).triplets.quality_model == str(model)
    (stage / "stage.json").write_text("{}")
    assert main(["quality", "fit", str(stage), "--model", str(model), "--triplets", "{}"]) == 2
    assert "stage.json: no refinement recorded" in capsys.readouterr().err


def test_proposals_judged_ahead_decide_as_judged_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-judging of proposals that larger ones took hits from, in batches judged ahead on the hits free at the
    time (entries dropped where a proposal accepted in between takes more hits), against one at a time."""
    from trackcore.refinement.finder import HelixFinder

    pos, layer, _ = scene(0, n_noise=3000)
    free = np.arange(len(pos))
    rows = steps.hit_layers(len(pos), *layered(pos), (7, 8, 9))
    original = HelixFinder._judge_ahead
    calls: dict[int, int] = {}
    found: dict[int, set] = {}
    for batch in (1, 64):
        def ahead(self, *args, batch=batch, **kwargs):
            calls[batch] = calls.get(batch, 0) + 1
            return original(self, *args, **{**kwargs, "batch": batch})

        monkeypatch.setattr(HelixFinder, "_judge_ahead", ahead)
        tracks = TripletSearch(min_layers=3, min_pt=0.0).find(pos, free, rows, CHECK, 3, 60)
        found[batch] = {frozenset(t.tolist()) for t in tracks}
    assert found[1] == found[64] and len(found[1]) > 100
    assert 1 < calls[64] < calls[1]  # fewer calls, and some entries judged ahead were dropped


def test_a_proposal_judged_ahead_is_judged_again_when_an_earlier_one_takes_more_of_its_hits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P3 is judged ahead while P1 is re-judged (hits 13 and 30 free: rejected by the rule below); P1 is then accepted
    and takes hit 13, so P3 must be judged again on hits 30-32 (accepted)."""
    from trackcore.refinement.finder import HelixFinder

    def judge(self, p, found, accept):  # fine unless it holds hits 13 and 30
        return np.array([not {13, 30} <= set(f.tolist()) for f in found]), np.full(len(found), 1e6)

    monkeypatch.setattr(HelixFinder, "_judge", judge)
    proposals = [np.arange(7), np.array([5, 6, 10, 11, 12, 13]), np.array([20, 21, 22, 23, 24]),
                 np.array([0, 13, 30, 31, 32])]
    good = np.array([True, False, True, False])
    got = HelixFinder(CHECK, 3, 12).accept_largest(np.zeros((40, 3)), proposals, good, np.full(4, 1e6))
    assert [t.tolist() for t in got] == [list(range(7)), [10, 11, 12, 13], [20, 21, 22, 23, 24], [30, 31, 32]]


def test_triplets_come_in_the_walks_order() -> None:
    """Grouped by middle in azimuth order; within a middle, bottoms in the order the walk up then down its
    azimuth window meets them; a bottom's tops by the polar angle of their doublet."""
    pos, layer, _ = scene(1, n_noise=300)
    rules = {**RULES, "max_dtheta": 0.05, "window": 0.8}
    got = compatible_triplets(pos, layer, **rules)
    assert len(got) > 50
    phi = np.arctan2(pos[:, 1], pos[:, 0])
    rank = np.empty(len(pos), np.int64)
    rank[np.argsort(phi, kind="stable")] = np.arange(len(pos))
    n = len(pos)
    assert (np.diff(rank[got[:, 1]]) >= 0).all()

    def walk_key(j: int, m: int) -> int:
        up = phi[j] - phi[m] + (0.0 if rank[j] > rank[m] else 2 * math.pi)
        return (rank[j] - rank[m]) % n if up <= rules["window"] else n + (rank[m] - rank[j]) % n

    def theta(m: int, t: int) -> float:
        d = pos[t] - pos[m]
        return math.atan(d[2] / math.hypot(d[0], d[1]))

    for m in np.unique(got[:, 1]):
        mine = got[got[:, 1] == m]
        keys = [walk_key(b, m) for b in mine[:, 0]]
        assert keys == sorted(keys)
        for b in np.unique(mine[:, 0]):
            angles = [theta(m, t) for t in mine[mine[:, 0] == b, 2]]
            assert angles == sorted(angles)
