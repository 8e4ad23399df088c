"""The ITk "CC and walk" track builder on hand-built directed graphs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.trackcore.builders.helpers import track_sets
from trackcore.builders import cc_and_walk

# (from, to, score) with edges pointing outward; hit "radius" = position along its chain.
EDGES = [
    # two true tracks 0-1-2-3 and 4-5-6-7 with a fake edge 1->6 (above cc_cut, below walk_max)
    (0, 1, 0.9), (1, 2, 0.9), (2, 3, 0.9), (4, 5, 0.9), (5, 6, 0.9), (6, 7, 0.9), (1, 6, 0.3),
    # a simple path of weak edges (taken directly by CC), a pair below cc_cut, a 2-hit path
    (8, 9, 0.05), (9, 10, 0.05), (11, 12, 0.005), (13, 14, 0.9),
    # 21 branches (both above walk_max): the best edge leads to a dead end, the other to a longer path
    (20, 21, 0.9), (21, 22, 0.8), (21, 23, 0.7), (23, 24, 0.9), (24, 25, 0.9),
    # shared junction 33: the longer path 30..34 takes it, 40-41 then continues on its weaker branch
    (30, 31, 0.9), (31, 32, 0.9), (32, 33, 0.9), (33, 34, 0.9), (40, 41, 0.9), (41, 33, 0.9), (41, 42, 0.5),
    (42, 43, 0.5),
]  # fmt: skip
N = 50
EDGE_INDEX = np.array([[a, b] for a, b, _ in EDGES]).T
SCORES = np.array([s for *_, s in EDGES])
CHAINS = [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10), (11, 12), (13, 14), (20, 21, 22), (21, 23, 24, 25),
          (30, 31, 32, 33, 34), (40, 41, 42, 43)]  # fmt: skip
RADIUS = np.zeros(N)
for chain in CHAINS:
    for prev, hit in zip(chain[:-1], chain[1:], strict=True):
        RADIUS[hit] = RADIUS[prev] + 1
EXPECTED = {
    frozenset({0, 1, 2, 3}),
    frozenset({4, 5, 6, 7}),
    frozenset({8, 9, 10}),
    frozenset({20, 21, 23, 24, 25}),
    frozenset({30, 31, 32, 33, 34}),
    frozenset({40, 41, 42, 43}),
}


def test_hand_built_graph_gives_the_known_tracks():
    c = cc_and_walk(EDGE_INDEX, SCORES, N, direction=RADIUS)
    assert track_sets(c) == EXPECTED
    assert c.n_shared_hits() == 0
    # simple paths first (ids 0..), then walked tracks, longest first
    first = c.to_frame().groupby("track_id")["hit_id"].apply(frozenset)
    assert first.iloc[0] == frozenset({8, 9, 10})
    assert set(first.iloc[1:3]) == {frozenset({20, 21, 23, 24, 25}), frozenset({30, 31, 32, 33, 34})}


def test_direction_orients_flipped_and_doubled_edges():
    flipped = EDGE_INDEX.copy()
    flipped[:, ::2] = flipped[::-1, ::2]
    assert track_sets(cc_and_walk(flipped, SCORES, N, direction=RADIUS)) == EXPECTED
    both = np.concatenate([EDGE_INDEX, EDGE_INDEX[::-1]], axis=1)
    scores = np.concatenate([SCORES, SCORES * 0.5])  # the reversed copy scores lower: the max is kept
    assert track_sets(cc_and_walk(torch.from_numpy(both), torch.from_numpy(scores), N, direction=RADIUS)) == EXPECTED


def test_without_direction_edges_are_taken_as_given():
    assert track_sets(cc_and_walk(EDGE_INDEX, SCORES, N)) == EXPECTED


def test_walk_max_controls_branch_exploration():
    # 21->23 (0.7) is no branch any more: the walk follows the best edge 21->22 and stops;
    # 23-24-25 then starts its own track.
    c = cc_and_walk(EDGE_INDEX, SCORES, N, direction=RADIUS, walk_max=0.75)
    sets = track_sets(c)
    assert frozenset({20, 21, 22}) in sets and frozenset({23, 24, 25}) in sets


def test_walk_min_and_min_hits():
    # walk_min above 0.5: 41->42 can no longer be followed, so 40-41 has no track after 32 is taken
    sets = track_sets(cc_and_walk(EDGE_INDEX, SCORES, N, direction=RADIUS, walk_min=0.55))
    assert frozenset({40, 41, 42, 43}) not in sets and frozenset({30, 31, 32, 33, 34}) in sets
    assert not any(42 in s or 43 in s for s in sets)  # 42-43 is a 2-hit leftover
    two = track_sets(cc_and_walk(EDGE_INDEX, SCORES, N, direction=RADIUS, min_hits=2))
    assert two == EXPECTED | {frozenset({13, 14})}
    five = track_sets(cc_and_walk(EDGE_INDEX, SCORES, N, direction=RADIUS, min_hits=5))
    assert five == {frozenset({20, 21, 23, 24, 25}), frozenset({30, 31, 32, 33, 34})}


def test_hit_ids_are_emitted():
    c = cc_and_walk(EDGE_INDEX, SCORES, N, direction=RADIUS, hit_id=np.arange(N) * 10)
    assert frozenset({0, 10, 20, 30}) in track_sets(c)


def test_empty_graph():
    assert len(cc_and_walk(np.zeros((2, 0), np.int64), np.zeros(0), 0)) == 0
    assert len(cc_and_walk(np.zeros((2, 0), np.int64), np.zeros(0), 7)) == 0
    assert len(cc_and_walk(EDGE_INDEX, np.zeros(len(SCORES)), N)) == 0


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="directed cycles"):
        cc_and_walk(np.array([[0, 1, 2], [1, 2, 0]]), np.ones(3), 3)
    with pytest.raises(ValueError, match="walk_min <= walk_max"):
        cc_and_walk(EDGE_INDEX, SCORES, N, walk_min=0.7, walk_max=0.6)
    with pytest.raises(ValueError, match="NaN"):
        cc_and_walk(EDGE_INDEX, np.full(len(SCORES), np.nan), N)
    with pytest.raises(ValueError, match="one 'direction' value"):
        cc_and_walk(EDGE_INDEX, SCORES, N, direction=RADIUS[:5])
    with pytest.raises(ValueError, match="out of range"):
        cc_and_walk(EDGE_INDEX, SCORES, 10)


def test_random_graph_tracks_are_disjoint_directed_paths():
    rng = np.random.default_rng(7)
    n, n_edges = 300, 900
    radius = rng.random(n)
    edge_index = rng.integers(0, n, (2, n_edges))
    scores = rng.random(n_edges)
    c = cc_and_walk(edge_index, scores, n, direction=radius, cc_cut=0.2, min_hits=3)
    assert c.n_tracks > 0 and c.n_shared_hits() == 0
    lo, hi = np.minimum(edge_index[0], edge_index[1]), np.maximum(edge_index[0], edge_index[1])
    kept = {(int(a), int(b)) for a, b, s in zip(lo, hi, scores, strict=True) if s > 0.2}
    for hits in track_sets(c):
        assert len(hits) >= 3
        path = sorted(hits, key=lambda h: radius[h])
        assert all((min(a, b), max(a, b)) in kept for a, b in zip(path[:-1], path[1:], strict=True))


def test_cutting_before_deduplication_keeps_the_same_edges():
    # cc_and_walk cuts before _orient (which deduplicates, keeping each pair's best score): the same edges as
    # the other order on a graph of both directions, duplicates and scores on both sides of the cut
    from trackcore.builders.walkthrough import _orient

    rng = np.random.default_rng(5)
    n = 300
    src, dst = rng.integers(0, n, 4000), rng.integers(0, n, 4000)
    src, dst = np.concatenate([src, dst, src[:500]]), np.concatenate([dst, src, dst[:500]])
    score = rng.random(src.size)
    direction = rng.random(n)
    for cut in (0.0, 0.3, 0.5, 0.9):
        s, d, w = _orient(src, dst, score, n, direction)
        after = (s[w > cut], d[w > cut], w[w > cut])
        keep = score > cut
        before = _orient(src[keep], dst[keep], score[keep], n, direction)
        assert all(np.array_equal(a, b) for a, b in zip(after, before, strict=True))
