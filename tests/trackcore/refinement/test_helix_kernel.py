"""The compiled helix search (trackcore.refinement.helix_kernel) against its numpy formulation: the same
points on every set, bit for bit, including the tie-breaking of the summed residuals."""

from __future__ import annotations

import numpy as np
import pytest

from trackcore.refinement.helix import HelixCheck, all_triples, triples_through_first
from trackcore.refinement.helix_kernel import _pairwise_sum


def numpy_best_helices(check: HelixCheck, p: np.ndarray, triples: np.ndarray, valid: np.ndarray,
                       min_gap: float = 0.0, whole: bool = False, max_d0: float = np.inf,
                       min_radius: float = 0.0) -> np.ndarray:
    """The search written with (B, T, n) numpy arrays (the implementation before the kernel), and its rules
    on the triples (:meth:`HelixCheck.best_helices`)."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    r = np.hypot(x, y)
    a, b, c = triples[:, 0], triples[:, 1], triples[:, 2]
    ax, ay, bx, by, cx, cy = x[:, a], y[:, a], x[:, b], y[:, b], x[:, c], y[:, c]
    d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
    ok = (np.abs(d) > 1e-12) & valid[:, a] & valid[:, b] & valid[:, c]
    for i, j in ((a, b), (a, c), (b, c)):  # no two of the triple's points closer than min_gap
        ok &= np.linalg.norm(p[:, i] - p[:, j], axis=-1) >= min_gap
    d = np.where(ok, d, 1.0)
    a2, b2, c2 = ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy
    ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d
    uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d
    rad = np.hypot(ax - ux, ay - uy)
    ok &= (np.abs(np.hypot(ux, uy) - rad) <= max_d0) & (rad >= min_radius)
    xs, ys = x[:, None, :], y[:, None, :]
    dist = np.hypot(xs - ux[..., None], ys - uy[..., None])
    power = ((xs - ax[..., None]) * (xs + ax[..., None] - 2 * ux[..., None])
             + (ys - ay[..., None]) * (ys + ay[..., None] - 2 * uy[..., None]))
    dxy = np.abs(power) / (dist + rad[..., None])
    pairs = np.stack([np.stack([a, b], 1), np.stack([a, c], 1), np.stack([b, c], 1)], axis=1)
    span = np.hypot(r[:, pairs[..., 1]] - r[:, pairs[..., 0]], z[:, pairs[..., 1]] - z[:, pairs[..., 0]])
    pick = span.argmax(-1)
    i = pairs[np.arange(len(triples))[None], pick, 0]
    j = pairs[np.arange(len(triples))[None], pick, 1]
    length = span.max(-1)
    ok &= length > 1e-9
    length = np.where(length > 1e-9, length, 1.0)
    ri, zi = np.take_along_axis(r, i, 1), np.take_along_axis(z, i, 1)
    ur, uz = (np.take_along_axis(r, j, 1) - ri) / length, (np.take_along_axis(z, j, 1) - zi) / length
    ok &= np.abs(uz) <= np.sinh(min(check.max_eta, 700.0)) * np.abs(ur)
    drz = np.abs((r[:, None, :] - ri[..., None]) * uz[..., None] - (z[:, None, :] - zi[..., None]) * ur[..., None])
    good = (dxy <= check.tol_xy) & (drz <= check.tol_rz) & ok[..., None] & valid[:, None, :]
    if whole:  # the triple's own points on its helix
        for k in (a, b, c):
            good &= np.take_along_axis(good, np.broadcast_to(k[None, :, None], (len(p), len(triples), 1)), 2)
    count = good.sum(-1)
    cost = np.where(good, dxy / check.tol_xy + drz / check.tol_rz, 0.0).sum(-1)
    best = np.argmin(cost - count * (2.0 * p.shape[1] + 1.0), axis=1)
    return good[np.arange(len(p)), best]


def helix_sets(rng: np.random.Generator, n_sets: int, n: int, n_tracks: int = 2, noise: float = 0.05) -> np.ndarray:
    """Point sets of ``n`` hits from ``n_tracks`` helices from the beam line plus a few random hits (mm)."""
    out = np.empty((n_sets, n, 3))
    for s in range(n_sets):
        which = rng.integers(0, n_tracks + 1, n)  # n_tracks = a random hit
        radius = rng.uniform(500, 5000, n_tracks) * rng.choice([-1, 1], n_tracks)
        phi0 = rng.uniform(-np.pi, np.pi, n_tracks)
        cot = rng.uniform(-3, 3, n_tracks)
        z0 = rng.normal(0, 20, n_tracks)
        r = np.sort(rng.uniform(30, 180, n))
        for k in range(n):
            if which[k] == n_tracks:
                out[s, k] = [r[k] * np.cos(a := rng.uniform(-np.pi, np.pi)), r[k] * np.sin(a), rng.uniform(-500, 500)]
                continue
            t = which[k]
            phi = phi0[t] + np.arcsin(np.clip(r[k] / (2 * radius[t]), -1, 1))
            out[s, k] = [r[k] * np.cos(phi), r[k] * np.sin(phi), z0[t] + cot[t] * r[k]]
    return out + rng.normal(0, noise, out.shape)


@pytest.mark.parametrize("n", [3, 4, 7, 8, 9, 16, 25])
def test_kernel_matches_numpy_on_helix_sets(n: int) -> None:
    rng = np.random.default_rng(n)
    check = HelixCheck(0.15, 0.5, 6.0)
    p = helix_sets(rng, 40, n)
    valid = rng.random((40, n)) > 0.1
    for triples in (check.triples(n), triples_through_first(n)):
        got = check.best_helices(p, triples, valid)
        assert got.dtype == bool and got.shape == (40, n)
        np.testing.assert_array_equal(got, numpy_best_helices(check, p, triples, valid))
    assert got.any(), "the sets hold helices: some points must be found"


def test_kernel_matches_numpy_on_long_sets_and_ties() -> None:
    """Sets past numpy's 128-value summation block (its pairwise halving), and duplicated points, whose
    triples tie in count and cost (the first triple wins)."""
    rng = np.random.default_rng(1)
    check = HelixCheck(0.15, 0.5, 6.0, max_triples=300)
    p = helix_sets(rng, 3, 300, n_tracks=1, noise=0.01)
    p[:, 150:] = p[:, :150]  # every point twice: ties everywhere
    valid = np.ones((3, 300), bool)
    triples = check.triples(300)
    np.testing.assert_array_equal(check.best_helices(p, triples, valid), numpy_best_helices(check, p, triples, valid))
    small = helix_sets(rng, 5, 6, n_tracks=1, noise=0.0)
    small[:, 3:] = small[:, :3]
    t6 = all_triples(6)
    np.testing.assert_array_equal(check.best_helices(small, t6, np.ones((5, 6), bool)),
                                  numpy_best_helices(check, small, t6, np.ones((5, 6), bool)))


@pytest.mark.parametrize("rules", [{"min_gap": 10.0}, {"whole": True}, {"max_d0": 2.0}, {"min_radius": 2500.0},
                                   {"min_gap": 10.0, "whole": True, "max_d0": 40.0, "min_radius": 750.0}])
def test_the_rules_on_triples_match_numpy_and_change_the_search(rules: dict) -> None:
    """Triples with two points within ``min_gap``, off their own helix (``whole``) or passing farther than
    ``max_d0`` from the beam line or turning tighter than ``min_radius`` define no helix: sets with hits doubled
    a few mm apart (overlapping modules) and helices up to 60 mm off the beam line."""
    rng = np.random.default_rng(7)
    check = HelixCheck(0.15, 0.5, 6.0)
    p = helix_sets(rng, 60, 12, n_tracks=3)
    p[:, :, :2] += rng.uniform(-60, 60, (60, 1, 2)) * (rng.random((60, 1, 1)) < 0.5)  # off the beam line
    p[:, 8:] = p[:, 4:8] + rng.normal(0, 2.0, (60, 4, 3))  # doubles
    valid = np.ones((60, 12), bool)
    triples = triples_through_first(12)
    got = check.best_helices(p, triples, valid, **rules)
    np.testing.assert_array_equal(got, numpy_best_helices(check, p, triples, valid, **rules))
    changed = (got != check.best_helices(p, triples, valid)).any(1)
    assert changed.sum() >= 3, f"the rules {rules} changed only {changed.sum()} of 60 searches"


def test_no_valid_triple_finds_nothing() -> None:
    check = HelixCheck(0.15, 0.5, 6.0)
    p = helix_sets(np.random.default_rng(2), 2, 5)
    valid = np.zeros((2, 5), bool)
    assert not check.best_helices(p, all_triples(5), valid).any()
    assert not check.best_helices(p, np.zeros((0, 3), np.int64), np.ones((2, 5), bool)).any()


def test_bad_shapes_and_indices_are_named() -> None:
    check = HelixCheck(0.15, 0.5, 6.0)
    p = np.zeros((2, 5, 3))
    with pytest.raises(ValueError, match="Expected p"):
        check.best_helices(p[..., :2], all_triples(5), np.ones((2, 5), bool))
    with pytest.raises(ValueError, match=r"indices in \[0, 5\)"):
        check.best_helices(p, np.array([[0, 1, 5]]), np.ones((2, 5), bool))
    for rule, match in (({"min_gap": -1.0}, "min_gap"), ({"min_gap": float("nan")}, "min_gap"),
                        ({"max_d0": float("nan")}, "max_d0"), ({"max_d0": -2.0}, "max_d0"),
                        ({"min_radius": -1.0}, "min_radius"), ({"min_radius": float("nan")}, "min_radius")):
        with pytest.raises(ValueError, match=match):
            check.best_helices(p, all_triples(5), np.ones((2, 5), bool), **rule)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 15, 128, 129, 136, 257, 1000, 4097])
def test_pairwise_sum_is_numpys(n: int) -> None:
    a = np.random.default_rng(n).random(n) * 1e3
    assert _pairwise_sum(a, n) == a.sum()


def test_sets_split_between_threads_give_the_same_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """With torch's two threads and every call large enough, the sets are searched in two halves at once."""
    from concurrent.futures import ThreadPoolExecutor

    from trackcore.refinement import helix

    pools = []

    class Spy(ThreadPoolExecutor):
        def __init__(self, n: int) -> None:
            pools.append(n)
            super().__init__(n)

    monkeypatch.setattr(helix, "PARALLEL_MIN_WORK", 1)
    monkeypatch.setattr(helix, "ThreadPoolExecutor", Spy)
    monkeypatch.setattr(helix.torch, "get_num_threads", lambda: 2)
    check = HelixCheck(0.15, 0.5, 6.0)
    p = helix_sets(np.random.default_rng(3), 41, 12)
    valid = np.ones((41, 12), bool)
    triples = check.triples(12)
    np.testing.assert_array_equal(check.best_helices(p, triples, valid), numpy_best_helices(check, p, triples, valid))
    assert pools == [2]
