"""Following pixel candidates into the strips (trackcore.refinement.follow), on hand-built helices (mm, 2 T)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.trackcore.builders.helpers import track_sets
from tests.trackcore.refinement.test_refine import candidates, helix
from trackcore.refinement.follow import StripFollowing

# pixel barrel (volume 8), short-strip barrel (13) and long-strip barrel (17) layers
RADII = np.array([32.0, 72.0, 116.0, 172.0, 260.0, 360.0, 500.0, 660.0, 820.0, 1020.0])
VOLUME = np.array([8, 8, 8, 8, 13, 13, 13, 13, 17, 17])
LAYER = np.array([2, 4, 6, 8, 2, 4, 6, 8, 2, 4])


def event(smear: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Particles a (hits 0-9) and b (10-19) through all ten layers, and a strip hit 30 mm off a's
    helix in z on a's first strip layer (20): positions, volume_id, layer_id. ``smear`` shifts the
    long-strip hits along the strip (z) by that many mm."""
    a = helix(1.5, 0.3, 0.4, 10.0, radii=RADII)
    b = helix(3.0, 0.45, -0.3, -20.0, charge=-1, radii=RADII)
    for track in (a, b):
        track[8:, 2] += smear
    stray = a[4] + np.array([0.0, 0.0, 30.0])
    pos = np.concatenate([a, b, stray[None]])
    return pos, np.r_[VOLUME, VOLUME, 13], np.r_[LAYER, LAYER, 2]


def test_pixel_tracks_take_their_strip_hits_and_not_a_strays() -> None:
    pos, vol, lay = event()
    given = candidates([[0, 1, 2, 3], [10, 11, 12, 13]])
    out = StripFollowing()(given, pos, None, vol, lay)
    assert track_sets(out) == {frozenset(range(10)), frozenset(range(10, 20))}
    # without a's own hit on that layer, the stray (30 mm off along a short strip) is still not taken
    keep = np.arange(len(pos)) != 4
    out = StripFollowing()(candidates([[0, 1, 2, 3], [9, 10, 11, 12]]), pos[keep], None, vol[keep], lay[keep])
    assert track_sets(out) == {frozenset(range(9)), frozenset(range(9, 19))}  # a without hit 4; the stray (19) free
    # a long strip measures z to ~3 mm: a 6 mm shift along it is still taken
    pos, vol, lay = event(smear=6.0)
    assert track_sets(StripFollowing()(given, pos, None, vol, lay)) == {frozenset(range(10)), frozenset(range(10, 20))}


def test_tracks_that_find_too_few_strip_hits_are_dropped() -> None:
    pos, vol, lay = event()
    keep = np.r_[np.arange(4), np.arange(10, 21)]  # a's strip hits are gone: a stays a 4-hit pixel track
    remap = np.full(len(pos), -1)
    remap[keep] = np.arange(len(keep))
    given = candidates([remap[[0, 1, 2, 3]].tolist(), remap[[10, 11, 12, 13]].tolist()])
    follow = StripFollowing(min_hits=8)
    out = follow(given, pos[keep], None, vol[keep], lay[keep])
    assert track_sets(out) == {frozenset(remap[10:20])}
    assert len(track_sets(StripFollowing(min_hits=4)(given, pos[keep], None, vol[keep], lay[keep]))) == 2


def test_a_hit_joins_one_track_and_ids_are_kept() -> None:
    pos, vol, lay = event()
    ids = np.arange(len(pos)) * 10 + 7
    given = candidates([[0, 1, 2, 3], [0, 1, 2, 3]])  # the same pixel track twice
    given.hit_id[:] = ids[given.hit_id]
    out = StripFollowing(min_hits=4)(given, pos, ids, vol, lay)
    assert sorted(len(t) for t in track_sets(out)) == [4, 10]
    assert set(out.hit_id.tolist()) <= set(ids.tolist())


def test_bad_input_is_named() -> None:
    pos, vol, lay = event()
    given = candidates([[0, 1, 2, 3]])
    with pytest.raises(ValueError, match="one 'layer_id' per hit"):
        StripFollowing()(given, pos, None, vol, lay[:5])
    with pytest.raises(ValueError, match="finite"):
        StripFollowing()(given, np.full_like(pos, np.nan), None, vol, lay)
    with pytest.raises(ValueError, match="radii"):
        StripFollowing(radii=(700.0, 400.0))
    with pytest.raises(ValueError, match="window"):
        StripFollowing(window=0.0)
