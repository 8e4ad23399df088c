"""The refinement's crowd cut: displaced candidates with a foreign hit nearby are dropped, on
hand-built helices (mm, 2 T)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trackcore.builders.helpers import track_sets
from tests.trackcore.refinement.test_refine import candidates, helix
from trackcore.refinement.refine import HelixRefinement

# c has two hits on the second layer (overlapping modules, 1.5 mm apart): its own near hits
DISPLACED_RADII = np.array([32.0, 72.0, 73.5, 116.0, 172.0])


def crowd_event(near_c: bool = True) -> np.ndarray:
    """Prompt particle a (hits 0-3), particle c passing 1 mm from the beam line (4-8), a foreign
    hit 2 mm from a's second hit (9) and, if ``near_c``, one 2 mm from c's first hit (10)."""
    a = helix(1.5, 0.3, 0.4, 10.0, radii=DISPLACED_RADII[[0, 1, 3, 4]])
    phi = 2.0
    c = helix(3.0, phi, -0.8, 20.0, radii=DISPLACED_RADII) + np.array([-np.sin(phi), np.cos(phi), 0.0])
    near = [a[1] + [0.0, 0.0, 2.0]] + ([c[0] + [0.0, 0.0, 2.0]] if near_c else [])
    return np.concatenate([a, c, np.array(near)])


def test_a_displaced_candidate_in_a_crowd_is_dropped_and_a_prompt_or_lonely_one_kept() -> None:
    given = candidates([[0, 1, 2, 3], [4, 5, 6, 7, 8]])
    pos = crowd_event()
    d0 = HelixRefinement().fit_ok(pos, [np.arange(4), np.arange(4, 9)])[1].d0
    assert d0[0] < 1e-6 and 0.9 < d0[1] < 1.1
    both = {frozenset(range(4)), frozenset(range(4, 9))}
    steps_off = dict(clean=False, merge=False, extend=False)
    assert track_sets(HelixRefinement(**steps_off)(given, pos)) == both  # off by default
    # c misses the beam line by 1 mm with a foreign hit 2 mm away: dropped; a, as near a foreign hit, is prompt
    assert track_sets(HelixRefinement(**steps_off, crowd_d0=0.5)(given, pos)) == {frozenset(range(4))}
    assert track_sets(HelixRefinement(**steps_off, crowd_d0=1.5)(given, pos)) == both
    assert track_sets(HelixRefinement(**steps_off, crowd_d0=0.5, crowd_radius=1.9)(given, pos)) == both
    # alone (its own overlapping hits 1.5 mm apart do not count), c stays
    alone = crowd_event(near_c=False)
    assert track_sets(HelixRefinement(**steps_off, crowd_d0=0.5)(given, alone)) == both
    # a near hit that c holds (here also held by another candidate) is its own
    holding = candidates([[0, 1, 2, 3], [4, 5, 6, 7, 8, 10], [10, 9, 1]])
    out = HelixRefinement(**steps_off, crowd_d0=0.5)(holding, pos)
    assert frozenset({4, 5, 6, 7, 8, 10}) in track_sets(out)


def test_the_crowd_cut_fits_only_the_judged_hits_and_names_bad_settings() -> None:
    pos = crowd_event()
    given = candidates([[0, 1, 2, 3], [4, 5, 6, 7, 8]])
    steps_off = dict(clean=False, merge=False, extend=False, crowd_d0=0.5)
    vol = np.full(len(pos), 8)
    vol[[6, 8]] = 13  # two of c's hits on strips: its 3 pixel hits still give d0 = 1 mm
    assert track_sets(HelixRefinement(**steps_off)(given, pos, None, vol)) == {frozenset(range(4))}
    vol[5] = 13  # 2 pixel hits are too few to fit: c passes
    assert len(track_sets(HelixRefinement(**steps_off)(given, pos, None, vol))) == 2
    with pytest.raises(ValueError, match="crowd_d0"):
        HelixRefinement(crowd_d0=0.0)
    with pytest.raises(ValueError, match="crowd_radius"):
        HelixRefinement(crowd_radius=-1.0)
