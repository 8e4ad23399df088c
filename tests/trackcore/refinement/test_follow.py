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
    with pytest.raises(ValueError, match="max_holes"):
        StripFollowing(max_holes=-1)
    with pytest.raises(ValueError, match="hole_margin"):
        StripFollowing(hole_margin=-1.0)
    with pytest.raises(ValueError, match="--follow takes KEY=VALUE"):
        StripFollowing.from_settings(["max_holes"])


def crowded_event(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """80 particles (pT 0.5-20 GeV, both charges, |eta| < 2.5) through 4 pixel layers, 6 barrel strip layers and
    12 end-cap strip disks (strip measurements smeared along the strip as a strip measures, and across it by
    2 mm), and 400 noise strip hits: positions, volume_id, layer_id and each particle's pixel hits."""
    rng = np.random.default_rng(seed)
    barrel = [(8, 2 * i + 2, r) for i, r in enumerate(RADII[:4])]
    barrel += [(13, 2 * i + 2, r) for i, r in enumerate(RADII[4:8])] + [(17, 2, 820.0), (17, 4, 1020.0)]
    disk_z = [1250.0, 1450.0, 1700.0, 2000.0, 2300.0, 2600.0]
    disks = [(14 if abs(z) < 2000 else 18, 2 * i + 2, z) for i, z in enumerate(disk_z)]
    disks += [(12 if v == 14 else 16, layer, -z) for v, layer, z in disks]
    pos, vol, lay, pixel = [], [], [], []
    for _ in range(80):
        pt, phi0, eta = rng.uniform(0.5, 20.0), rng.uniform(-np.pi, np.pi), rng.uniform(-2.5, 2.5)
        z0, q = rng.uniform(-50.0, 50.0), rng.choice([-1, 1])
        big_r = pt / 0.6 * 1000.0
        arcs = [(v, layer, 2 * big_r * np.arcsin(r / (2 * big_r))) for v, layer, r in barrel if r < 2 * big_r]
        arcs += [(v, layer, (z - z0) / np.sinh(eta)) for v, layer, z in disks if abs(eta) > 0.05]
        mine = []
        for v, layer, s in arcs:
            z = z0 + s * np.sinh(eta)
            on_barrel = v in (8, 13, 17)
            if s <= 0 or s > np.pi * big_r or (on_barrel and abs(z) > 1100):
                continue
            if not on_barrel and 2 * big_r * np.sin(s / (2 * big_r)) > 1000:
                continue
            x = big_r / q * (np.sin(phi0 + q * s / big_r) - np.sin(phi0))
            y = -big_r / q * (np.cos(phi0 + q * s / big_r) - np.cos(phi0))
            along = {8: 0.0, 13: 0.35, 17: 3.0}.get(v, 0.35 if v in (12, 14) else 3.0) * rng.normal()
            if v != 8:  # across the strip: the extrapolation's error, up to the judging window
                x, y = x - y * 2.0 * rng.normal() / np.hypot(x, y), y + x * 2.0 * rng.normal() / np.hypot(x, y)
            if on_barrel:
                z += along
            else:  # an end-cap strip measures r to its pitch
                x, y = x * (1 + along / np.hypot(x, y)), y * (1 + along / np.hypot(x, y))
            mine.append(len(pos))
            pos.append([x, y, z])
            vol.append(v)
            lay.append(layer)
        on_pixels = [h for h in mine if vol[h] == 8]
        if len(on_pixels) == 4:
            pixel.append(on_pixels)
    for _ in range(400):
        v, layer, r = barrel[4 + rng.integers(6)]
        phi = rng.uniform(-np.pi, np.pi)
        pos.append([r * np.cos(phi), r * np.sin(phi), rng.uniform(-1100, 1100)])
        vol.append(v)
        lay.append(layer)
    return np.array(pos), np.array(vol), np.array(lay), pixel


class EveryPair(StripFollowing):
    """Judges every strip hit within ``max_turn`` of each track (the windowed search's reference)."""

    def _pairs(self, layers, phi0, outer, r_max, h):  # type: ignore[override]
        tracks, hits = [], []
        for layer in layers:
            for t in range(len(h.size)):
                lo, hi = np.searchsorted(layer.phi, [phi0[t] - self.max_turn, phi0[t] + self.max_turn])
                hits.append(layer.rows[lo:hi])
                tracks.append(np.full(hi - lo, t))
        return np.concatenate(tracks), np.concatenate(hits)


def test_windows_about_the_helix_take_what_every_pair_takes() -> None:
    for seed in range(3):
        pos, vol, lay, pixel = crowded_event(seed)
        given = candidates(pixel)
        fast, reference = StripFollowing(), EveryPair()
        assert track_sets(fast(given, pos, None, vol, lay)) == track_sets(reference(given, pos, None, vol, lay))
        followed = track_sets(StripFollowing(min_hits=1)(given, pos, None, vol, lay))
        assert sum(len(t) for t in followed) > 5 * len(pixel)  # the particles' strip hits were found
