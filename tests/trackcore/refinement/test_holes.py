"""Holes (layers a helix crosses without a hit of its candidate), hole filling and the quality cut,
on hand-built helices through the TrackML pixel layers (mm, 2 T)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trackcore.builders.helpers import track_sets
from tests.trackcore.refinement.test_refine import candidates, helix
from trackcore.refinement.holes import LayerTable
from trackcore.refinement.refine import HelixRefinement, fit_helices

BARREL = np.array([32.0, 72.0, 116.0, 172.0])  # pixel barrel radii, volume 8 layers 2, 4, 6, 8
TABLE = LayerTable.of_volumes((7, 8, 9))


def crossed_keys(points: np.ndarray, margin: float = 0.0) -> set[int]:
    fits = fit_helices(points, np.zeros(len(points), np.int64), 1)
    return {int(k) for k in TABLE.key[TABLE.crossed(fits, margin)[0]]}


def test_a_central_helix_crosses_the_four_barrel_layers_and_a_forward_one_the_disks() -> None:
    assert len(TABLE) == 18
    assert crossed_keys(helix(1.5, 0.3, 0.4, 10.0, radii=BARREL)) == {8002, 8004, 8006, 8008}
    # eta 2: z = 32 sinh 2 = 116, 261, 421 mm on the first three layers, 624 mm at r = 172 (past
    # the barrel's 491 mm); the first +z disk (z = 600 mm) is met at r = 600 / sinh 2 = 165 mm
    # (inside 30-176 mm), the second at 193 mm (outside)
    assert crossed_keys(helix(5.0, 1.0, 2.0, 0.0, radii=BARREL[:3])) == {8002, 8004, 8006, 9002}
    assert crossed_keys(helix(5.0, 1.0, -2.0, 0.0, radii=BARREL[:3])) == {8002, 8004, 8006, 7014}


def test_the_margin_decides_a_crossing_at_the_layer_edge() -> None:
    eta = np.arcsinh(490.5 / 172.0)  # meets the outer barrel layer 0.5 mm inside its 491 mm end
    points = helix(50.0, 0.0, eta, 0.0, radii=BARREL)
    assert 8008 in crossed_keys(points, margin=0.0)
    assert 8008 not in crossed_keys(points, margin=1.0)


def test_layer_index_and_holes() -> None:
    index = TABLE.index(np.array([8, 8, 9, 13, 7]), np.array([2, 8, 14, 2, 3]))
    assert (index >= 0).tolist() == [True, True, True, False, False]  # strips and unknown layers: -1
    points = helix(1.5, 0.3, 0.4, 10.0, radii=BARREL)[[0, 1, 3]]  # no hit on layer 6
    group = np.zeros(3, np.int64)
    holes = TABLE.holes(fit_helices(points, group, 1), group, TABLE.index(np.full(3, 8), np.array([2, 4, 8])))
    assert TABLE.key[holes[0]].tolist() == [8006]


def barrel_event() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Particle a on the 4 barrel layers (hits 0-3), particle b likewise (4-7), a noise hit on layer
    6 1 mm off a's helix (8): positions, volume_id, layer_id."""
    a = helix(1.5, 0.3, 0.4, 10.0, radii=BARREL)
    b = helix(3.0, 2.0, -0.8, -20.0, charge=-1, radii=BARREL)
    noise = a[2] + np.array([0.0, 0.0, 1.5])
    pos = np.concatenate([a, b, noise[None]])
    layer = np.array([2, 4, 6, 8, 2, 4, 6, 8, 6])
    return pos, np.full(9, 8), layer


def test_fill_holes_takes_the_missing_layers_hit_and_not_noise() -> None:
    pos, vol, lay = barrel_event()
    given = candidates([[0, 1, 3], [4, 5, 6, 7]])  # a without its layer-6 hit
    plain = HelixRefinement(extend=False)
    assert track_sets(plain(given, pos, None, vol, layer_id=lay)) == {frozenset({0, 1, 3}), frozenset(range(4, 8))}
    filled = HelixRefinement(extend=False, fill_holes=True)(given, pos, None, vol, layer_id=lay)
    assert track_sets(filled) == {frozenset(range(4)), frozenset(range(4, 8))}
    # with a's own hit gone, the noise hit (1.5 mm off in z) is not taken
    away = np.arange(9) != 2
    remap = np.cumsum(away) - 1
    given = candidates([remap[[0, 1, 3]].tolist(), remap[[4, 5, 6, 7]].tolist()])
    out = HelixRefinement(extend=False, fill_holes=True)(given, pos[away], None, vol[away], layer_id=lay[away])
    assert track_sets(out) == {frozenset(remap[[0, 1, 3]]), frozenset(remap[[4, 5, 6, 7]])}


def test_quality_cut_drops_holed_and_two_layer_candidates_only() -> None:
    pos, vol, lay = barrel_event()
    given = candidates([[0, 1, 3], [4, 5, 6, 7]])
    keep_all = HelixRefinement(extend=False, max_holes=1)(given, pos, None, vol, layer_id=lay)
    assert len(track_sets(keep_all)) == 2
    cut = HelixRefinement(extend=False, max_holes=0)(given, pos, None, vol, layer_id=lay)
    assert track_sets(cut) == {frozenset(range(4, 8))}
    # filled first, a has no hole left and stays
    both = HelixRefinement(extend=False, fill_holes=True, max_holes=0)(given, pos, None, vol, layer_id=lay)
    assert track_sets(both) == {frozenset(range(4)), frozenset(range(4, 8))}
    # three hits on two layers (an overlap pair on layer 2): dropped by min_layers 3, not by 2
    two = pos.copy()
    two[1] = helix(1.5, 0.3, 0.4, 10.0, radii=np.array([32.5]))[0]
    lay2 = lay.copy()
    lay2[1] = 2
    given = candidates([[0, 1, 2], [4, 5, 6, 7]])
    assert len(track_sets(HelixRefinement(extend=False, min_layers=2)(given, two, None, vol, layer_id=lay2))) == 2
    assert track_sets(HelixRefinement(extend=False, min_layers=3)(given, two, None, vol, layer_id=lay2)) == {
        frozenset(range(4, 8))}


def test_span_holes_from_forgives_the_layers_beyond_a_long_candidates_last_hit_only() -> None:
    pos, vol, lay = barrel_event()
    ends = candidates([[0, 1, 2], [4, 5, 6, 7]])  # a stops after layer 6: a hole on layer 8 beyond its last hit
    inner = candidates([[0, 1, 3], [4, 5, 6, 7]])  # a misses layer 6, between its hits
    cut = HelixRefinement(extend=False, max_holes=0)
    assert track_sets(cut(ends, pos, None, vol, layer_id=lay)) == {frozenset(range(4, 8))}
    span = HelixRefinement(extend=False, max_holes=0, span_holes_from=3)
    assert track_sets(span(ends, pos, None, vol, layer_id=lay)) == {frozenset({0, 1, 2}), frozenset(range(4, 8))}
    assert track_sets(span(inner, pos, None, vol, layer_id=lay)) == {frozenset(range(4, 8))}  # inside: still a hole
    # a 3-hit candidate below span_holes_from counts every crossed layer
    short = HelixRefinement(extend=False, max_holes=0, span_holes_from=4)
    assert track_sets(short(ends, pos, None, vol, layer_id=lay)) == {frozenset(range(4, 8))}
    with pytest.raises(ValueError, match="span_holes_from"):
        HelixRefinement(span_holes_from=2)


def test_short_d0_drops_short_candidates_that_miss_the_beam_line_only() -> None:
    pos, vol, lay = barrel_event()
    displaced = pos.copy()
    displaced[:4, :2] += 3.0 * np.array([-np.sin(0.3), np.cos(0.3)])  # a, 3 mm off the beam line
    d0 = fit_helices(displaced[:4], np.zeros(4, np.int64), 1).d0[0]
    assert 2.5 < d0 < 3.5
    short = candidates([[0, 1, 2], [4, 5, 6, 7]])  # a on 3 layers, b on 4
    full = candidates([[0, 1, 2, 3], [4, 5, 6, 7]])
    cut = HelixRefinement(extend=False, short_d0=(3, 1.0))
    assert track_sets(cut(short, displaced, None, vol, layer_id=lay)) == {frozenset(range(4, 8))}
    assert len(track_sets(cut(short, pos, None, vol, layer_id=lay))) == 2  # prompt: kept
    assert len(track_sets(cut(full, displaced, None, vol, layer_id=lay))) == 2  # 4 layers: not judged by it
    wider = HelixRefinement(extend=False, short_d0=(4, 1.0))
    assert track_sets(wider(full, displaced, None, vol, layer_id=lay)) == {frozenset(range(4, 8))}
    assert len(track_sets(HelixRefinement(extend=False, short_d0=(3, 5.0))(short, displaced, None, vol,
                                                                           layer_id=lay))) == 2
    for bad, message in (((0, 1.0), "short_d0 layers"), ((3, -1.0), "short_d0 mm"), ((3,), "short_d0 must be")):
        with pytest.raises(ValueError, match=message):
            HelixRefinement(short_d0=bad)


def test_candidates_outside_the_judged_volumes_pass_the_quality_cut() -> None:
    pos, vol, lay = barrel_event()
    vol = vol.copy()
    vol[3] = 13  # a's outer hit on a strip layer: a is not judged
    lay = lay.copy()
    lay[3] = 2
    out = HelixRefinement(extend=False, max_holes=0, min_layers=4)(
        candidates([[0, 1, 3], [4, 5, 6, 7]]), pos, None, vol, layer_id=lay)
    assert track_sets(out) == {frozenset({0, 1, 3}), frozenset(range(4, 8))}


def test_hole_settings_name_their_bad_input() -> None:
    pos, vol, lay = barrel_event()
    given = candidates([[0, 1, 2, 3]])
    with pytest.raises(ValueError, match="need the hits' volume_id and layer_id"):
        HelixRefinement(max_holes=0)(given, pos, None, vol)
    with pytest.raises(ValueError, match="one 'layer_id' per hit"):
        HelixRefinement(fill_holes=True)(given, pos, None, vol, layer_id=lay[:5])
    bad = lay.copy()
    bad[0] = 3
    with pytest.raises(ValueError, match="volume_id 8, layer_id 3"):
        HelixRefinement(min_layers=3)(given, pos, None, vol, layer_id=bad)
    with pytest.raises(ValueError, match="max_holes"):
        HelixRefinement(max_holes=-1)
    with pytest.raises(ValueError, match="min_layers"):
        HelixRefinement(min_layers=0)
    with pytest.raises(ValueError, match="hole_margin"):
        HelixRefinement(hole_margin=float("nan"))
    with pytest.raises(ValueError, match="fill_tolerance"):
        HelixRefinement(fill_tolerance=(0.3,))
    # off by default: no layer ids needed
    assert len(HelixRefinement()(given, pos)) == 4


def test_hole_volumes_none_judges_strip_candidates_too() -> None:
    # a: 4 pixel hits + short-strip barrel hits at 260, 500 and 660 mm (none at 360 mm: a strip hole);
    # b: complete on the pixels and all four short-strip layers
    radii = np.array([32.0, 72.0, 116.0, 172.0, 260.07, 360.07, 500.07, 660.07])
    a = helix(1.5, 0.3, 0.4, 10.0, radii=radii)[[0, 1, 2, 3, 4, 6, 7]]
    b = helix(3.0, 2.0, -0.8, -20.0, charge=-1, radii=radii)
    pos = np.concatenate([a, b])
    vol = np.array([8, 8, 8, 8, 13, 13, 13] + [8] * 4 + [13] * 4)
    lay = np.array([2, 4, 6, 8, 2, 6, 8, 2, 4, 6, 8, 2, 4, 6, 8])
    given = candidates([list(range(7)), list(range(7, 15))])
    pixel_only = HelixRefinement(max_holes=0)(given, pos, None, vol, layer_id=lay)
    assert len(track_sets(pixel_only)) == 2  # both hold strip hits: not judged on the pixel layers
    short = (7, 8, 9, 12, 13, 14)  # pixels and short strips
    cut = HelixRefinement(max_holes=0, hole_volumes=short)(given, pos, None, vol, layer_id=lay)
    assert track_sets(cut) == {frozenset(range(7, 15))}
    assert len(track_sets(HelixRefinement(max_holes=1, hole_volumes=short)(given, pos, None, vol, layer_id=lay))) == 2
    # every layer: both also cross the two long-strip barrel layers (820, 1020 mm) without a hit
    every = HelixRefinement(max_holes=2, hole_volumes=None)(given, pos, None, vol, layer_id=lay)
    assert track_sets(every) == {frozenset(range(7, 15))}
    with pytest.raises(ValueError, match="hole_volumes"):
        HelixRefinement(hole_volumes=())


def test_recover_min_layers_judges_the_recovered_candidates_only() -> None:
    pos, vol, lay = barrel_event()
    # a is the model's candidate on 3 of its layers; b (4 layers) is in no candidate: recover finds it
    given = candidates([[0, 1, 3]])
    found = HelixRefinement(extend=False, recover=True, recover_min_layers=4)(given, pos, None, vol, layer_id=lay)
    assert track_sets(found) == {frozenset({0, 1, 3}), frozenset(range(4, 8))}
    # a recovered candidate on fewer layers is dropped; the model's 3-layer candidate is not
    strict = HelixRefinement(extend=False, recover=True, recover_min_layers=5)(given, pos, None, vol, layer_id=lay)
    assert track_sets(strict) == {frozenset({0, 1, 3})}
    with pytest.raises(ValueError, match="recover_min_layers"):
        HelixRefinement(recover_min_layers=0)
    with pytest.raises(ValueError, match="recover_min_layers need the hits' volume_id and layer_id"):
        HelixRefinement(extend=False, recover=True, recover_min_layers=4)(given, pos)


def test_the_quality_cut_runs_before_recover_and_frees_the_hits_of_what_it_drops() -> None:
    pos, vol, lay = barrel_event()
    displaced = pos.copy()
    displaced[:4, :2] += 1.0 * np.array([-np.sin(0.3), np.cos(0.3)])  # a, ~1 mm off the beam line
    # the model's candidate holds 3 of a's hits: off the beam line on 3 layers, short_d0 drops it; its hits
    # are free for the search, which finds a on its 4 layers (and b, in no candidate)
    given = candidates([[0, 1, 2]])
    refine = HelixRefinement(extend=False, short_d0=(3, 0.4), recover=True, recover_min_layers=4, max_d0=2.0)
    assert track_sets(refine(given, displaced, None, vol, layer_id=lay)) == {frozenset(range(4)),
                                                                              frozenset(range(4, 8))}
    # without the search, the cut alone drops it
    cut = HelixRefinement(extend=False, short_d0=(3, 0.4))
    assert track_sets(cut(given, displaced, None, vol, layer_id=lay)) == set()


def test_a_found_helix_that_the_accept_rule_rejects_takes_no_hits() -> None:
    pos, vol, lay = barrel_event()
    on_a = helix(1.5, 0.3, 0.4, 10.0, radii=np.array([74.0]))  # a second hit of a on layer 4 (overlap)
    pos = np.concatenate([pos, on_a])
    finder = HelixRefinement().finder
    free = np.arange(10)
    # hit 0 searches all of a's hits and hit 9 (a 5-hit helix); hit 1 only a's own four
    query = np.array([0, 0, 0, 0, 1, 1, 1])
    near = np.array([1, 2, 3, 9, 0, 2, 3])
    no_9 = lambda tracks: np.array([9 not in t for t in tracks])  # noqa: E731
    assert [t.tolist() for t in finder.seeded_helices(pos, free, query, near)] == [[0, 1, 2, 3, 9]]
    # rejected, the 5-hit helix leaves a's hits to the 4-hit one
    assert [t.tolist() for t in finder.seeded_helices(pos, free, query, near, no_9)] == [[0, 1, 2, 3]]
    # a rule that rejects every helix holding hit 0: a is not found by recover, b is
    found = finder.recover(pos, free, lambda tracks: np.array([0 not in t for t in tracks]))
    assert {frozenset(t.tolist()) for t in found} == {frozenset(range(4, 8))}


def test_layer_counts_count_distinct_layers_and_hits_outside_the_table_as_one() -> None:
    from trackcore.refinement import steps

    rng = np.random.default_rng(0)
    layer = rng.integers(-1, 20, 400)  # -1: a hit outside the layer table
    tracks = [rng.choice(400, int(rng.integers(1, 12)), replace=False) for _ in range(300)]
    expected = [np.unique(layer[t]).size for t in tracks]
    assert steps.layer_counts(tracks, (TABLE, layer)).tolist() == expected
    assert steps.layer_counts([np.array([0, 1, 2])], (TABLE, np.array([-1, -1, 3]))).tolist() == [2]
    assert steps.layer_counts([], (TABLE, layer)).shape == (0,)


def test_a_shared_memo_gives_the_same_candidates_and_skips_searched_neighbourhoods(monkeypatch) -> None:
    from tests.trackcore.refinement.helpers import count_searches

    pos, vol, lay = barrel_event()
    refine = HelixRefinement(extend=False, recover=True, max_holes=1)
    plain = refine(candidates([[0, 1, 3]]), pos, None, vol, layer_id=lay)
    searched = count_searches(monkeypatch)
    memo: dict = {}
    first = refine(candidates([[0, 1, 3]]), pos, None, vol, layer_id=lay, memo=memo)
    assert track_sets(first) == track_sets(plain) and len(memo) == sum(searched) > 0
    searched.clear()
    again = refine(candidates([[0, 1, 3]]), pos, None, vol, layer_id=lay, memo=memo)
    assert track_sets(again) == track_sets(plain) and searched == []  # every neighbourhood known
