"""The helix-fit refinement: fits, clean, merge, extend, and its errors, on hand-built helices (mm, 2 T)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trackcore.builders.helpers import track_sets
from trackcore.candidates import TrackCandidates
from trackcore.refinement.refine import HelixRefinement, fit_helices

RADII = np.array([32.0, 72.0, 116.0, 172.0, 260.0, 360.0])  # barrel layers (mm)


def helix(pt: float, phi0: float, eta: float, z0: float, charge: int = 1, radii: np.ndarray = RADII) -> np.ndarray:
    """Points of a helix from (0, 0, z0) at the given transverse radii (2 T field).

    Shapes:
        return: (len(radii), 3).
    """
    big_r = pt / (0.3 * 2.0) * 1000.0  # transverse radius of curvature, mm
    s = 2 * big_r * np.arcsin(radii / (2 * big_r))  # transverse arc length to each radius
    x = big_r / charge * (np.sin(phi0 + charge * s / big_r) - np.sin(phi0))
    y = -big_r / charge * (np.cos(phi0 + charge * s / big_r) - np.cos(phi0))
    return np.stack([x, y, z0 + s * np.sinh(eta)], axis=1)


def candidates(tracks: list[list[int]]) -> TrackCandidates:
    hit = np.concatenate([np.asarray(t, np.int64) for t in tracks])
    label = np.repeat(np.arange(len(tracks)), [len(t) for t in tracks])
    return TrackCandidates(hit, label)


def event() -> np.ndarray:
    """Two particles of 6 hits each (ids 0-5 and 6-11), 1 mm apart at the first layer, and a noise hit (12)."""
    a = helix(1.5, 0.30, 0.4, 10.0)
    b = helix(2.0, 0.31, 0.45, -5.0, charge=-1)
    noise = np.array([[60.0, 30.0, 40.0]])
    return np.concatenate([a, b, noise])


def test_fit_is_exact_on_helices_and_straight_lines() -> None:
    pixel = RADII[:4]
    pos = np.concatenate([helix(1.0, 0.1, 0.2, 0.0, radii=pixel), helix(1e4, -2.0, 3.5, 50.0, radii=pixel),
                          helix(1.0, 2.5, -1.2, -30.0, -1, radii=pixel)])
    group = np.repeat(np.arange(3), len(pixel))
    fits = fit_helices(pos, group, 3)
    dxy, drz = fits.residuals(pos, group)
    assert dxy.max() < 1e-6
    # z is linear in the arc length, not in r: within r^3 / 24R^2 = 0.07 mm at r = 172 mm for pT = 1 GeV
    assert drz[len(pixel):2 * len(pixel)].max() < 1e-6 and drz.max() < 0.03
    assert fits.radius[0] == pytest.approx(1000.0 / 0.6, rel=1e-6)
    np.testing.assert_allclose(fits.eta, [0.2, 3.5, -1.2], atol=2e-3)
    np.testing.assert_allclose(fits.z_at_beam, [0.0, 50.0, -30.0], atol=0.1)


def test_fit_handles_exactly_collinear_hits() -> None:
    pos = np.array([[10.0, 10.0, 1.0], [20.0, 20.0, 2.0], [40.0, 40.0, 4.0], [80.0, 80.0, 8.0]])
    group = np.zeros(4, np.int64)
    fits = fit_helices(pos, group, 1)
    assert np.isinf(fits.radius[0])
    dxy, drz = fits.residuals(pos + np.array([0.0, 0.5, 0.0]), group)
    np.testing.assert_allclose(dxy, 0.5 / np.sqrt(2), atol=1e-9)  # distance to the transverse line


def test_clean_removes_a_stray_hit_and_extend_gives_it_to_its_track() -> None:
    pos = event()
    # track 0 holds particle a plus b's first hit (6); track 1 holds the rest of b
    given = candidates([[0, 1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11]])
    out = HelixRefinement()(given, pos)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(6, 12))}
    # without extend, the stray hit is only released
    out = HelixRefinement(extend=False)(given, pos)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(7, 12))}


def test_clean_keeps_a_second_helix_as_its_own_candidate() -> None:
    pos = event()
    out = HelixRefinement(merge=False, extend=False)(candidates([list(range(12))]), pos)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(6, 12))}


def test_merge_joins_the_pieces_of_one_particle_and_not_of_two() -> None:
    pos = event()
    out = HelixRefinement(extend=False)(candidates([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]), pos)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(6, 12))}
    out = HelixRefinement(merge=False, extend=False)(candidates([[0, 1, 2], [3, 4, 5]]), pos)
    assert len(track_sets(out)) == 2


def test_extend_takes_helix_hits_and_not_noise() -> None:
    pos = event()
    out = HelixRefinement()(candidates([[0, 1, 2, 4], [6, 7, 8, 9, 10, 11]]), pos)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(6, 12))}  # 3 and 5 join, 12 stays out
    out = HelixRefinement(extend_radius=70.0)(candidates([[0, 1, 2, 4]]), pos)
    assert track_sets(out) == {frozenset({0, 1, 2, 3, 4})}  # hit 5 is 100 mm from the nearest track hit


def test_taken_hits_never_join_a_candidate() -> None:
    pos = event()
    given = candidates([[0, 1, 2, 4]])
    assert track_sets(HelixRefinement()(given, pos)) == {frozenset(range(6))}
    taken = np.zeros(13, bool)
    taken[3] = True  # another track holds hit 3: extend adds only hit 5
    assert track_sets(HelixRefinement()(given, pos, taken=taken)) == {frozenset({0, 1, 2, 4, 5})}
    # a taken hit inside the candidate stays: the mark only stops hits joining; recover skips taken hits too
    out = HelixRefinement(recover=True)(TrackCandidates.empty(), pos, taken=np.arange(13) < 6)
    assert track_sets(out) == {frozenset(range(6, 12))}
    with pytest.raises(ValueError, match="'taken' flag per hit: 13"):
        HelixRefinement()(given, pos, taken=taken[:5])


def test_tolerances_decide_what_fits() -> None:
    pos = event()
    pos[3, 2] += 0.4  # a (r, z) miss of 0.4 mm on one hit
    given = candidates([list(range(6))])
    assert track_sets(HelixRefinement(tol_rz=0.5, extend=False)(given, pos)) == {frozenset(range(6))}
    assert track_sets(HelixRefinement(tol_rz=0.2, extend=False)(given, pos)) == {frozenset({0, 1, 2, 4, 5})}


def test_small_and_hopeless_candidates_are_dropped_and_ids_kept() -> None:
    pos = event()
    hit_id = np.arange(13) * 10 + 7
    # a 2-hit track, a 3-hit track of unrelated hits, and a 4-hit track of particle a
    given = TrackCandidates(hit_id[[0, 1, 6, 11, 12, 2, 3, 4, 5]], np.array([0, 0, 1, 1, 1, 2, 2, 2, 2]))
    out = HelixRefinement(extend=False)(given, pos, hit_id)
    assert track_sets(out) == {frozenset(hit_id[[2, 3, 4, 5]])}
    out = HelixRefinement()(given, pos, hit_id)  # extend gives the released a-hits back
    assert track_sets(out) == {frozenset(hit_id[[0, 1, 2, 3, 4, 5]])}


def test_shared_hits_stay_shared() -> None:
    pos = event()
    out = HelixRefinement(merge=False)(candidates([[0, 1, 2, 3], [3, 4, 5]]), pos)
    assert track_sets(out) == {frozenset({0, 1, 2, 3, 4, 5})} or out.n_shared_hits() == 1


def test_many_hits_use_a_seeded_triple_sample() -> None:
    radii = np.linspace(30.0, 1000.0, 40)
    pos = np.concatenate([helix(5.0, 1.0, 0.1, 0.0, radii=radii), [[500.0, 500.0, 0.0]]])
    ref = HelixRefinement(max_triples=50, extend=False)
    out = ref(candidates([list(range(41))]), pos)
    assert track_sets(out) == {frozenset(range(40))}
    assert track_sets(ref(candidates([list(range(41))]), pos)) == track_sets(out)


def test_bad_input_is_named() -> None:
    pos = event()
    given = candidates([[0, 1, 2]])
    with pytest.raises(ValueError, match="shape"):
        HelixRefinement()(given, pos[:, :2])
    bad = pos.copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        HelixRefinement()(given, bad)
    with pytest.raises(ValueError, match="not among the event's hits.*99"):
        HelixRefinement()(TrackCandidates(np.array([0, 1, 99]), np.zeros(3, np.int64)), pos)
    with pytest.raises(ValueError, match="tol_xy"):
        HelixRefinement(tol_xy=0.0)
    with pytest.raises(ValueError, match="min_hits"):
        HelixRefinement(min_hits=2)
    with pytest.raises(ValueError, match="merge_window"):
        HelixRefinement(merge_window=(0.1, 0.1))
    with pytest.raises(ValueError, match="recover_window"):
        HelixRefinement(recover_window=(0.1,))
    with pytest.raises(ValueError, match="recover_neighbors"):
        HelixRefinement(recover_neighbors=2)
    with pytest.raises(ValueError, match="max_d0"):
        HelixRefinement(max_d0=0.0)
    assert len(HelixRefinement()(TrackCandidates.empty(), pos)) == 0


def test_every_module_path_uses_the_refined_candidates() -> None:
    from types import SimpleNamespace

    import torch

    from trackcore.train import TrackingModule

    class Fixed(TrackingModule):
        """Builds one 7-hit candidate holding a stray hit of the other particle."""

        def infer(self, event):
            return {}

        def build_tracks(self, event, outputs):
            return candidates([[0, 1, 2, 3, 4, 5, 6]])

    pos = torch.from_numpy(event())
    ev = SimpleNamespace(pos=pos, hit_id=torch.arange(13))
    plain = Fixed(model=torch.nn.Linear(1, 1))
    assert plain.refine is None and track_sets(plain.tracks(ev, {})) == {frozenset(range(7))}
    refined = Fixed(model=torch.nn.Linear(1, 1), refine=HelixRefinement())
    assert track_sets(refined.tracks(ev, {})) == {frozenset(range(6))}


def test_only_candidates_of_the_judged_volumes_are_refined() -> None:
    pos = event()
    volume = np.full(13, 8)
    volume[[9, 12]] = 13  # a strip hit in b and the noise hit
    given = candidates([[0, 1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11]])
    out = HelixRefinement()(given, pos, volume_id=volume)
    # a (pixel only) loses the stray hit 6; b (holds a strip hit) passes as given, 6 is not extended into it
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(7, 12))}
    out = HelixRefinement(volumes=None)(given, pos, volume_id=volume)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(6, 12))}
    with pytest.raises(ValueError, match="volume_id"):
        HelixRefinement()(given, pos, volume_id=volume[:5])


def test_blobs_larger_than_max_clean_hits_are_released_not_searched() -> None:
    pos = event()
    given = candidates([list(range(12))])  # two particles in one candidate
    assert len(track_sets(HelixRefinement(max_clean_hits=12, merge=False, extend=False)(given, pos))) == 2
    assert len(HelixRefinement(max_clean_hits=11, merge=False, extend=False)(given, pos)) == 0
    with pytest.raises(ValueError, match="max_clean_hits"):
        HelixRefinement(max_clean_hits=2)


def recover_event(offset: float) -> np.ndarray:
    """Particle a (hits 0-5), particle c of 4 pixel hits (6-9) whose helix misses the beam line by
    ``offset`` mm, and 3 noise hits (10-12) in c's direction that lie on no helix with its hits."""
    a = helix(1.5, 0.30, 0.4, 10.0)
    c = helix(1.2, 2.0, -0.8, 20.0, radii=RADII[:4]) + offset * np.array([-np.sin(2.0), np.cos(2.0), 0.0])
    noise = np.array([[-20.0, 30.0, -30.0], [-31.0, 65.0, -60.0], [-55.0, 98.0, -110.0]])
    return np.concatenate([a, c, noise])


def test_recover_finds_a_particle_in_no_candidate_but_not_noise_or_a_displaced_one() -> None:
    given = candidates([list(range(6))])
    pos = recover_event(0.0)
    assert HelixRefinement(recover=True).fit_ok(pos, [np.arange(6, 10)])[1].d0[0] < 1e-6
    assert track_sets(HelixRefinement()(given, pos)) == {frozenset(range(6))}  # off by default
    out = HelixRefinement(recover=True)(given, pos)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(6, 10))}
    displaced = recover_event(3.0)
    d0 = HelixRefinement().fit_ok(displaced, [np.arange(6, 10)])[1].d0[0]
    assert 2.5 < d0 < 3.5
    assert track_sets(HelixRefinement(recover=True)(given, displaced)) == {frozenset(range(6))}
    out = HelixRefinement(recover=True, max_d0=4.0)(given, displaced)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(6, 10))}
    # hits outside the direction window are not neighbours: c's hits alone, spread in azimuth, stay free
    assert track_sets(HelixRefinement(recover=True, recover_window=(1e-4, 1e-4))(given, pos)) == {frozenset(range(6))}


def test_recover_takes_a_particle_released_as_strays_of_two_candidates() -> None:
    pos = recover_event(0.0)
    # c's hits are strays of two candidates of particle a: the clean step releases them, recover rebuilds c
    given = candidates([[0, 1, 2, 6, 7], [3, 4, 5, 8, 9]])
    assert track_sets(HelixRefinement()(given, pos)) == {frozenset(range(6))}
    assert track_sets(HelixRefinement(recover=True)(given, pos)) == {frozenset(range(6)), frozenset(range(6, 10))}


def test_recover_alone_is_a_track_finder_from_no_candidates() -> None:
    pos = recover_event(0.0)
    out = HelixRefinement(recover=True)(TrackCandidates.empty(), pos)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(6, 10))}  # the noise hits stay out
    assert len(HelixRefinement()(TrackCandidates.empty(), pos)) == 0


def test_hits_of_one_barrel_layer_are_not_a_helix() -> None:
    # one hit of each of 6 particles on the 72 mm layer: a circle about the beam line and a line of constant r
    phi = np.linspace(0.2, 0.5, 6)
    layer = np.stack([72.0 * np.cos(phi), 72.0 * np.sin(phi), np.linspace(-40.0, 60.0, 6)], 1)
    a = helix(1.5, 0.30, 0.4, 10.0)
    pos = np.concatenate([a, layer])
    fits = fit_helices(layer, np.zeros(6, np.int64), 1)
    assert fits.radius[0] == pytest.approx(72.0) and abs(fits.eta[0]) > 6.0
    given = candidates([list(range(12))])
    assert track_sets(HelixRefinement(extend=False)(given, pos)) == {frozenset(range(6))}
    # without the cut the layer "helix" is the largest one and even takes particle a's hit on that layer
    assert track_sets(HelixRefinement(extend=False, max_eta=1e3)(given, pos)) == {
        frozenset({1, *range(6, 12)}), frozenset({0, 2, 3, 4, 5})}
    with pytest.raises(ValueError, match="max_eta"):
        HelixRefinement(max_eta=0.0)


def test_regroup_rebuilds_only_what_the_model_grouped() -> None:
    pos = recover_event(0.0)
    given = candidates([[0, 1, 2, 6, 7], [3, 4, 5, 8, 9]])  # c's hits are strays of two candidates of a
    a, c = frozenset(range(6)), frozenset(range(6, 10))
    # the model's second choices hold c's hits (and two noise hits) in one group: c is rebuilt, noise left out
    grouped = candidates([[0, 1, 2, 6, 7], [3, 4, 5, 8, 9], [6, 7, 8, 9, 10, 11]])
    assert track_sets(HelixRefinement()(given, pos, groups=grouped)) == {a, c}
    # a hit may be in several groups: c's hits linked only through shared memberships
    chained = candidates([[6, 7, 10], [7, 8, 9, 12]])
    assert track_sets(HelixRefinement()(given, pos, groups=chained)) == {a, c}
    # groups that keep c's hits apart give nothing: the step searches only among group mates
    apart = candidates([[6, 7, 10], [8, 9, 11, 12]])
    assert track_sets(HelixRefinement()(given, pos, groups=apart)) == {a}
    assert track_sets(HelixRefinement()(given, pos, groups=TrackCandidates.empty())) == {a}
    # the beam-line requirement holds here too
    displaced = recover_event(3.0)
    assert track_sets(HelixRefinement()(given, displaced, groups=grouped)) == {a}


def test_regroup_does_not_search_blobs_and_names_unknown_hits() -> None:
    pos = recover_event(0.0)
    blob = candidates([list(range(13))])  # e.g. an untrained model's single super-node
    out = HelixRefinement(max_clean_hits=13)(TrackCandidates.empty(), pos, groups=blob)
    assert track_sets(out) == {frozenset(range(6)), frozenset(range(6, 10))}
    assert len(HelixRefinement(max_clean_hits=12)(TrackCandidates.empty(), pos, groups=blob)) == 0
    with pytest.raises(ValueError, match="not among the event's hits"):
        HelixRefinement()(TrackCandidates.empty(), pos, groups=candidates([[0, 1, 99]]))


@pytest.mark.parametrize("n_hits", [40, 70_000])  # the hits' radix sort (16 bits) and the general one
def test_nearest_first_is_the_lexsort_by_hit_then_distance(n_hits: int) -> None:
    from trackcore.refinement.finder import nearest_first

    rng = np.random.default_rng(3)
    q = rng.integers(0, 4, (n_hits, 3)).astype(np.float64)  # coarse: many equal distances
    key = np.unique(rng.integers(0, n_hits, 3000) * n_hits + rng.integers(0, n_hits, 3000))
    i, j = key // n_hits, key % n_hits
    order = np.lexsort((np.linalg.norm(q[i] - q[j], axis=1), i))
    got_i, got_j = nearest_first(q, i, j)
    assert np.array_equal(got_i, i[order]) and np.array_equal(got_j, j[order])


def test_join_merges_the_passes_pieces_and_gives_them_free_hits() -> None:
    pos = event()
    # a first pass holds 0-2, a second pass 3-4 (refined apart, neither knows the other); hit 5 is free
    passes = candidates([[0, 1, 2], [3, 4], [6, 7, 8, 9, 10, 11]])
    refine = HelixRefinement(join_passes=True)
    assert track_sets(refine.join(passes, pos)) == {frozenset(range(6)), frozenset(range(6, 12))}
    # two particles' candidates stay apart, and the noise hit joins neither
    apart = candidates([[0, 1, 2, 3, 4], [6, 7, 8, 9, 10]])
    assert track_sets(refine.join(apart, pos)) == {frozenset(range(6)), frozenset(range(6, 12))}
    # candidates with hits outside the judged volumes pass unchanged
    volume = np.full(13, 8)
    volume[[3, 4]] = 12
    assert track_sets(refine.join(passes, pos, volume_id=volume)) == {
        frozenset({0, 1, 2}), frozenset({3, 4}), frozenset(range(6, 12))}  # hit 5: over 200 mm from hit 2
    assert len(refine.join(TrackCandidates.empty(), pos)) == 0
    # bad input is named as by the refinement itself
    broken = pos.copy()
    broken[4, 2] = np.nan
    with pytest.raises(ValueError, match="'pos' holds 1 NaN"):
        refine.join(passes, broken)
    with pytest.raises(ValueError, match=r"'pos' of shape \(N_hits, 3\)"):
        refine.join(passes, pos[:, :2])
