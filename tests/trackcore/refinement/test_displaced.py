"""The refinement's search for helices off the beam line (``displaced``): secondaries made a few cm out."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.trackcore.builders.helpers import track_sets
from tests.trackcore.refinement.test_refine import helix
from trackcore.candidates import TrackCandidates
from trackcore.refinement.finder import DisplacedSearch
from trackcore.refinement.refine import HelixRefinement

LAYERS = np.array([32.0, 72.0, 116.0, 172.0])  # the TrackML pixel barrel (volume 8, layers 2-8)


def secondary(pt: float, vertex: tuple[float, float, float], phi0: float, eta: float, charge: int = 1) -> np.ndarray:
    """The crossings of the barrel layers outside ``vertex`` by a particle made there (2 T field).

    Shapes:
        return: (layers crossed, 3).
    """
    big_r = pt / (0.3 * 2.0) * 1000.0
    s = np.arange(0.0, 400.0, 0.002)  # transverse arc length from the vertex (mm)
    x = vertex[0] + big_r / charge * (np.sin(phi0 + charge * s / big_r) - np.sin(phi0))
    y = vertex[1] - big_r / charge * (np.cos(phi0 + charge * s / big_r) - np.cos(phi0))
    r = np.hypot(x, y)
    hits = []
    for radius in LAYERS[LAYERS > np.hypot(vertex[0], vertex[1])]:
        i = int(np.argmax(r >= radius))  # first crossing, interpolated
        f = (radius - r[i - 1]) / (r[i] - r[i - 1])
        si = s[i - 1] + f * (s[i] - s[i - 1])
        hits.append([x[i - 1] + f * (x[i] - x[i - 1]), y[i - 1] + f * (y[i] - y[i - 1]), vertex[2] + si * np.sinh(eta)])
    return np.array(hits)


def layered(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Volume and layer ids of barrel hits. Shapes: two (N,) int arrays."""
    layer_id = np.searchsorted(LAYERS, np.hypot(pos[:, 0], pos[:, 1]) - 1.0) * 2 + 2
    return np.full(len(pos), 8), layer_id


def event() -> np.ndarray:
    """A prompt particle (hits 0-3), a 2 GeV secondary made at r = 40 mm turned 0.8 rad away from the
    radial direction (hits 4-6: layers 72, 116, 172, ~29 mm off the beam line) and a 0.4 GeV one made
    at r = 35 mm (hits 7-9)."""
    prompt = helix(1.5, 0.3, 0.4, 10.0, radii=LAYERS)
    v = (40.0 * np.cos(2.0), 40.0 * np.sin(2.0), -20.0)
    hard = secondary(2.0, v, 2.8, -0.5)
    v = (35.0 * np.cos(-1.5), 35.0 * np.sin(-1.5), 30.0)
    soft = secondary(0.4, v, -1.1, 0.7, charge=-1)
    return np.concatenate([prompt, hard, soft])


CUT = {"max_holes": 1, "span_holes_from": 5, "min_layers": 3, "short_d0": (3, 0.5), "recover": True}


def test_the_prompt_search_misses_a_secondary_that_the_displaced_search_finds() -> None:
    pos = event()
    volume, layer_id = layered(pos)
    assert len(pos) == 10 and (layer_id[4:] > 2).all()
    d0 = HelixRefinement().fit_ok(pos, [np.arange(4, 7), np.arange(7, 10)])[1].d0
    assert (d0 > 10).all()
    prompt = HelixRefinement(**CUT)(TrackCandidates.empty(), pos, volume_id=volume, layer_id=layer_id)
    assert track_sets(prompt) == {frozenset(range(4))}
    # a wide max_d0 alone is not enough: the secondary's hits turn 0.26 rad in azimuth seen from the origin
    wide = HelixRefinement(**{**CUT, "max_d0": 40.0})(TrackCandidates.empty(), pos, volume_id=volume, layer_id=layer_id)
    assert frozenset(range(4, 7)) not in track_sets(wide)
    both = HelixRefinement(**CUT, displaced={"min_layers": 3, "min_pt": 0.0})
    out = both(TrackCandidates.empty(), pos, volume_id=volume, layer_id=layer_id)
    assert track_sets(out) == {frozenset(range(4)), frozenset(range(4, 7)), frozenset(range(7, 10))}


def test_layers_and_transverse_momentum_decide_what_the_displaced_search_returns() -> None:
    pos = event()
    volume, layer_id = layered(pos)

    def found(**settings: object) -> set[frozenset[int]]:
        refine = HelixRefinement(**CUT, displaced=DisplacedSearch(**settings))
        return track_sets(refine(TrackCandidates.empty(), pos, volume_id=volume, layer_id=layer_id))

    assert found(min_layers=3, min_pt=0.9) == {frozenset(range(4)), frozenset(range(4, 7))}  # the soft one is not
    assert found(min_layers=4, min_pt=0.0) == {frozenset(range(4))}  # both secondaries lie on 3 layers
    assert found(min_layers=3, min_pt=0.0, max_d0=10.0) == {frozenset(range(4))}
    assert found(min_layers=3, min_pt=3.0) == {frozenset(range(4))}


def harder_through(a: np.ndarray, b: np.ndarray, radius: float, pt: float = 2.0) -> np.ndarray:
    """A point at transverse ``radius`` on a ``pt`` helix through the hits ``a`` and ``b`` (on the (r, z)
    line through them). Shapes: a, b: (3,); returns (3,)."""
    big_r = pt / (0.3 * 2.0) * 1000.0
    mid, chord = (a[:2] + b[:2]) / 2, b[:2] - a[:2]
    normal = np.array([-chord[1], chord[0]]) / np.linalg.norm(chord)
    centre = mid + normal * np.sqrt(big_r**2 - (np.linalg.norm(chord) / 2) ** 2)
    angle = np.linspace(-np.pi, np.pi, 2_000_001)
    circle = centre + big_r * np.stack([np.cos(angle), np.sin(angle)], 1)
    near = np.linalg.norm(circle - a[:2], axis=1) < 150.0  # the arc near the hits
    xy = circle[near][np.argmin(np.abs(np.hypot(*circle[near].T) - radius))]
    ra, rb = np.hypot(*a[:2]), np.hypot(*b[:2])
    return np.array([xy[0], xy[1], a[2] + (b[2] - a[2]) / (rb - ra) * (radius - ra)])


def test_a_soft_helix_keeps_its_hits_from_the_others() -> None:
    # the soft secondary (hits 7-9) and a hit (10) that makes a 2 GeV helix with its hits 8 and 9: the soft
    # helix, found first, holds hits 8 and 9 though it is not returned, so they make no fake with hit 10
    pos = event()
    pos = np.concatenate([pos, harder_through(pos[8], pos[9], 72.0)[None]])
    check = HelixRefinement().check
    ok, fits = check.fit_ok(pos, [np.array([8, 9, 10]), np.arange(7, 10)])
    assert ok.all() and fits.radius[0] > 3000 and fits.radius[1] < 1000 and fits.d0[0] < 40.0
    finder = DisplacedSearch(min_layers=3, min_pt=0.9).finder(check, 3, 60)
    assert finder.min_radius == pytest.approx(0.9 / (0.299792458e-3 * 2.0))
    loose = DisplacedSearch(min_layers=3, min_pt=0.0).finder(check, 3, 60)
    free = np.arange(7, 11)
    assert [set(t.tolist()) for t in loose.recover(pos, free)] == [set(range(7, 10))]
    assert finder.recover(pos, free) == []
    # without the soft helix's hits held, the harder one is a candidate
    assert [set(t.tolist()) for t in finder.recover(pos, np.array([8, 9, 10]))] == [{8, 9, 10}]
    # with search_min_pt the soft circle defines no helix in the search: it holds no hits, and the 2 GeV helix
    # through two of them is found (at TrackML density a soft particle's hits otherwise take displaced seeds)
    stiff = DisplacedSearch(min_layers=3, min_pt=0.9, search_min_pt=0.7).finder(check, 3, 60)
    assert stiff.search_min_radius == pytest.approx(0.7 / (0.299792458e-3 * 2.0))
    assert [set(t.tolist()) for t in stiff.recover(pos, free)] == [{8, 9, 10}]


def test_bad_displaced_settings_are_named() -> None:
    for settings, match in (({"window": (0.0, 0.6)}, "window"), ({"neighbors": 2}, "neighbors"),
                            ({"max_d0": -1.0}, "max_d0"), ({"min_layers": 0}, "min_layers"),
                            ({"min_pt": float("nan")}, "min_pt"), ({"field_t": 0.0}, "field_t"),
                            ({"retries": -1}, "retries"), ({"search_min_pt": -0.1}, "search_min_pt")):
        with pytest.raises(ValueError, match=match):
            DisplacedSearch(**settings)
    with pytest.raises(ValueError, match=r"displaced: unknown setting\(s\) \['bogus'\]"):
        HelixRefinement(displaced={"bogus": 1})
    with pytest.raises(ValueError, match="displaced must be None"):
        HelixRefinement(displaced=3)
    with pytest.raises(ValueError, match="volume_id"):  # its layer rule needs the layers
        HelixRefinement(displaced={})(TrackCandidates.empty(), event())


def test_null_on_the_command_line_switches_the_searches_off() -> None:
    # jsonargparse passes a nested override of a mapping setting as the string "None": it failed to parse (the
    # density config sets displaced, so a user could not switch it off without a second YAML file)
    from pathlib import Path

    from trackcore.train.cli import main as train_main

    config = Path(__file__).resolve().parents[3] / "ec" / "configs" / "full_trackml_edge_classifier.yaml"
    base = ["--config", str(config), "--trainer.logger=false"]
    refine = train_main([*base, "--model.init_args.refine.triplets={min_layers: 3}"], run=False).model.refine
    assert refine.displaced.min_layers == 4 and refine.triplets.min_layers == 3  # the config's, the override's
    off = ["--model.init_args.refine.displaced=null", "--model.init_args.refine.triplets=null"]
    refine = train_main([*base, "--model.init_args.refine.triplets={min_layers: 3}", *off], run=False).model.refine
    assert refine.displaced is None and refine.triplets is None
    assert HelixRefinement(displaced="None", triplets="null").displaced is None
    with pytest.raises(ValueError, match="displaced must be None or a mapping of DisplacedSearch settings"):
        HelixRefinement(displaced="off")  # any other word is named, not read as off


def test_a_seed_whose_best_helix_is_rejected_is_searched_again_without_it() -> None:
    # seed hit 4 (the secondary's, at 72 mm) also lies on a 4-hit helix (hits at 116, 140 and 172 mm): the
    # larger, so its best; a rule rejects it (as the quality cut may), and only a second search without its
    # other hits finds the secondary
    pos = event()[:7]
    b = harder_through(pos[4], pos[5], 116.0)
    b[2] += 3.0  # another helix through hit 4: its (r, z) line differs from the secondary's
    fake = [b] + [harder_through(pos[4], b, r) for r in (140.0, 172.0)]
    pos = np.concatenate([pos, np.array(fake)])  # hits 7-9
    ok, _ = HelixRefinement().check.fit_ok(pos, [np.array([4, 7, 8, 9]), np.arange(4, 7)])
    assert ok.all()

    def without_hit_9(tracks: list[np.ndarray]) -> np.ndarray:
        return np.array([9 not in t for t in tracks])

    free = np.arange(len(pos))
    query, near = np.full(5, 4), np.array([7, 8, 9, 5, 6])  # only hit 4 is searched, among these
    for retries, found in ((0, []), (1, [{4, 5, 6}])):
        finder = DisplacedSearch(min_layers=3, min_pt=0.0, retries=retries).finder(HelixRefinement().check, 3, 60)
        out = finder.seeded_helices(pos, free, query, near, without_hit_9)
        assert [set(t.tolist()) for t in out] == found, retries


def test_a_helix_that_misses_its_seed_does_not_hide_the_seeds_helix() -> None:
    # three hits (7-9) on one helix whose transverse circle passes through seed hit 4 but whose (r, z) line
    # misses it by 2 mm, one hit inside the seed and two outside: the triple of the seed and the outer two
    # defines their line, on which the third lies, and their residuals are smaller than the secondary's
    # (hits 4-6, whose z is not linear in r: it was made 40 mm out). Counted by hits alone that helix,
    # without the seed, beat the secondary, and the seed proposed nothing.
    pos = event()[:7]
    c = pos[5].copy()
    c[2] += 20.0
    fake = np.array([harder_through(pos[4], c, r) for r in (50.0, 130.0, 160.0)])
    fake[:, 2] += 2.0
    pos = np.concatenate([pos, fake])
    check = HelixRefinement().check
    ok, _ = check.fit_ok(pos, [np.array([7, 8, 9]), np.arange(4, 7), np.array([4, 7, 8, 9])])
    assert ok.tolist() == [True, True, False]
    around = np.array([4, 7, 5, 8, 6, 9])
    triples = np.array([[0, i, j] for i in range(1, 6) for j in range(i + 1, 6)])
    plain = check.best_helices(pos[around][None], triples, np.ones((1, 6), bool))[0]
    assert set(around[plain].tolist()) == {7, 8, 9}
    finder = DisplacedSearch(min_layers=3, min_pt=0.0).finder(check, 3, 60)
    out = finder.seeded_helices(pos, np.arange(len(pos)), np.full(5, 4), around[1:])
    assert [set(t.tolist()) for t in out] == [{4, 5, 6}]


def test_two_hits_on_one_layer_define_no_helix() -> None:
    # two hits 2.5 mm apart on the 116 mm layer (overlapping modules) on a helix through seed hit 4: with the
    # seed they made a 3-hit "helix" with no residual, which beat the secondary (hits 4-6) and was then
    # rejected (2 layers); two hits closer than min_gap (10 mm) no longer define a helix
    pos = event()[:7]
    c = pos[5].copy()
    c[2] += 10.0
    pos = np.concatenate([pos, np.array([harder_through(pos[4], c, r) for r in (116.0, 118.5)])])  # hits 7, 8

    def on_three_layers(tracks: list[np.ndarray]) -> np.ndarray:
        return np.array([len(set(np.round(np.hypot(pos[t, 0], pos[t, 1]) / 20).tolist())) >= 3 for t in tracks])

    finder = DisplacedSearch(min_layers=3, min_pt=0.0, retries=0).finder(HelixRefinement().check, 3, 60)
    assert finder.min_gap == 10.0
    for gap, found in ((0.0, []), (10.0, [{4, 5, 6}])):
        out = dataclasses.replace(finder, min_gap=gap).seeded_helices(
            pos, np.arange(len(pos)), np.full(4, 4), np.array([7, 8, 5, 6]), on_three_layers)
        assert [set(t.tolist()) for t in out] == found, gap
