"""Candidates on fewer than ``min_layers`` layers: extended along their circle through the beam line."""

from __future__ import annotations

import numpy as np

from tests.trackcore.refinement.test_refine import candidates, helix
from trackcore.refinement import steps
from trackcore.refinement.helix import fit_helices
from trackcore.refinement.refine import HelixRefinement

LAYERS = np.array([32.0, 72.0, 116.0, 172.0])
N_OTHERS = 40


def double_hit_track(pt: float = 1.5, phi0: float = 0.3, eta: float = 0.4) -> np.ndarray:
    """Hits at 72 and 72.4 mm (overlapping modules of one layer, the second 0.03 mm off the helix, a
    measurement error), 116 mm, then 172 and 32 mm. Shapes: (5, 3)."""
    pos = helix(pt, phi0, eta, 5.0, radii=np.array([72.0, 72.4, 116.0, 172.0, 32.0]))
    normal = pos[1, :2] / np.linalg.norm(pos[1, :2])
    pos[1, :2] += 0.03 * normal[::-1] * np.array([1.0, -1.0])
    return pos


def test_circle_through_the_beam_fixes_what_a_double_hit_cannot() -> None:
    pos = double_hit_track()
    group = np.zeros(3, np.int64)
    own = fit_helices(pos[:3], group, 1)
    beam = fit_helices(pos[:3], group, 1, np.array([True]))
    far = np.zeros(2, np.int64)
    assert own.residuals(pos[3:], far)[0].max() > 1.0  # the 3 hits' own circle misses the other layers by mm
    assert beam.residuals(pos[3:], far)[0].max() < 0.1
    # the (r, z) line is the group's own either way
    np.testing.assert_array_equal([own.r0, own.z0, own.ur, own.uz], [beam.r0, beam.z0, beam.ur, beam.uz])
    both = fit_helices(np.r_[pos[:3], pos[:3]], np.r_[group, group + 1], 2, np.array([False, True]))
    np.testing.assert_allclose([both.c[0], both.c[1]], [own.c[0], beam.c[0]])


def _crowded_event() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """A 3-hit double-hit candidate (hits 0-2) whose other two hits (3, 4) are free, among 40 four-hit
    tracks whose hits lie nearer to hit 3 than the candidate's do."""
    short = double_hit_track()
    others = [helix(3.0, 0.3 + 0.002 * (i + 1), 0.4 + 0.01 * (i % 5), 0.0, radii=LAYERS)
              for i in range(N_OTHERS)]
    pos = np.concatenate([short, *others])
    radius = np.hypot(pos[:, 0], pos[:, 1])
    layer_id = np.searchsorted(LAYERS, radius - 1.0) * 2 + 2  # the TrackML pixel barrel's layers 2-8
    tracks = [[0, 1, 2]] + [list(range(5 + 4 * i, 9 + 4 * i)) for i in range(N_OTHERS)]
    return pos, np.full(len(pos), 8), layer_id, tracks


def test_a_short_candidate_among_others_gets_its_far_hits_and_passes_the_cut() -> None:
    pos, volume, layer_id, tracks = _crowded_event()
    near = np.linalg.norm(pos[5:] - pos[3], axis=1) < np.linalg.norm(pos[:3] - pos[3], axis=1).min()
    assert near.sum() > 32  # the free hit's 32 nearest candidate hits are all the other tracks'
    refine = HelixRefinement(max_holes=1, min_layers=3, merge=False)
    out = refine(candidates(tracks), pos, volume_id=volume, layer_id=layer_id)
    kept = {frozenset(out.hit_id[out.track_id == t].tolist()) for t in np.unique(out.track_id)}
    assert frozenset(range(5)) in kept
    # without the quality cut, extend leaves it at 3 hits: the beam-line circle is only for the short ones
    plain = HelixRefinement(merge=False)(candidates(tracks), pos, volume_id=volume, layer_id=layer_id)
    assert frozenset(range(3)) in {frozenset(plain.hit_id[plain.track_id == t].tolist())
                                    for t in np.unique(plain.track_id)}


def test_extend_without_marks_is_unchanged() -> None:
    pos, _, _, tracks = _crowded_event()
    arrays = [np.asarray(t) for t in tracks]
    free = np.array([3, 4])
    check = HelixRefinement().check
    plain = steps.extend(arrays, pos, free, check, 200.0, 32)
    marked = steps.extend(arrays, pos, free, check, 200.0, 32, through_beam=np.zeros(len(arrays), bool))
    assert [t.tolist() for t in plain] == [t.tolist() for t in marked]
    assert plain[0].tolist() == [0, 1, 2]
