"""Soft-to-hard assignment of a hit-to-candidate weight table, answers worked out by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import trackcore.linear_assignment as assignment_module
from tests.trackcore.builders.helpers import tracks_by_id
from trackcore.builders import (
    AssignmentOptions,
    argmax_assignment,
    assign,
    matching_assignment,
    threshold_assignment,
    topk_assignment,
)

# (hit, candidate, weight)
TABLE = [
    (0, 0, 0.9), (0, 1, 0.8),  # hit 0: shared by c0 and c1 under threshold 0.7
    (1, 0, 0.6), (1, 1, 0.3),
    (2, 1, 0.95),
    (3, 1, 0.75), (3, 2, 0.5),
    (4, 2, 0.2),
]  # fmt: skip
HIT = np.array([h for h, _, _ in TABLE])
CAND = np.array([c for _, c, _ in TABLE])
WEIGHT = np.array([w for *_, w in TABLE])
N_HITS = 5
# layers: hits 0, 1 on layer 7; hits 2, 3 on layer 3; hit 4 on layer 9
LAYER = np.array([7, 7, 3, 3, 9])


def test_threshold_keeps_shared_hits_and_leaves_weak_hits_out():
    c = threshold_assignment(HIT, CAND, WEIGHT, N_HITS, threshold=0.7)
    assert tracks_by_id(c) == {0: {0}, 1: {0, 2, 3}}
    assert c.n_shared_hits() == 1


def test_argmax():
    assert tracks_by_id(argmax_assignment(HIT, CAND, WEIGHT, N_HITS)) == {0: {0, 1}, 1: {2, 3}, 2: {4}}
    assert tracks_by_id(argmax_assignment(HIT, CAND, WEIGHT, N_HITS, min_weight=0.25)) == {0: {0, 1}, 1: {2, 3}}
    assert tracks_by_id(argmax_assignment(HIT, CAND, WEIGHT, N_HITS, min_hits=2)) == {0: {0, 1}, 1: {2, 3}}


def test_top2():
    c = topk_assignment(HIT, CAND, WEIGHT, N_HITS, k=2)
    assert tracks_by_id(c) == {0: {0, 1}, 1: {0, 1, 2, 3}, 2: {3, 4}}
    c = topk_assignment(HIT, CAND, WEIGHT, N_HITS, k=2, min_weight=0.4)
    assert tracks_by_id(c) == {0: {0, 1}, 1: {0, 2, 3}, 2: {3}}


def test_matching_resolves_two_hits_on_one_layer():
    # Layer 7: argmax puts hits 0 and 1 both on c0 (0.9 + 0.6); the matching prefers
    # 0 -> c1, 1 -> c0 (0.8 + 0.6 = 1.4 > 0.9 + 0.3). Layer 3: hits 2 and 3 both want c1;
    # 2 keeps it (0.95) and 3 moves to c2 (0.5): 1.45 > 0.75.
    c = matching_assignment(HIT, CAND, WEIGHT, N_HITS, group_j=LAYER)
    assert tracks_by_id(c) == {0: {1}, 1: {0, 2}, 2: {3, 4}}
    assert c.n_shared_hits() == 0
    # without groups it is argmax
    assert tracks_by_id(matching_assignment(HIT, CAND, WEIGHT, N_HITS)) == {0: {0, 1}, 1: {2, 3}, 2: {4}}
    # one group per hit: no layer conflict left, argmax again
    alone = matching_assignment(HIT, CAND, WEIGHT, N_HITS, group_j=np.arange(N_HITS))
    assert tracks_by_id(alone) == {0: {0, 1}, 1: {2, 3}, 2: {4}}


def _best_total(hit, cand, weight, group) -> float:
    """Brute force: every way of giving each hit one candidate or none, one hit per (candidate, group)."""
    options = [[None] + [e for e in range(len(hit)) if hit[e] == h] for h in np.unique(hit)]
    best = 0.0
    for pick in itertools.product(*options):
        chosen = [e for e in pick if e is not None]
        slots = [(cand[e], group[hit[e]]) for e in chosen]
        if len(set(slots)) == len(slots):
            best = max(best, float(weight[chosen].sum()))
    return best


@pytest.mark.parametrize("chunk_rows", [2048, 2])
def test_matching_is_optimal_on_random_tables(monkeypatch, chunk_rows):
    monkeypatch.setattr(assignment_module, "_CHUNK_ROWS", chunk_rows)  # also exercise many solver calls
    rng = np.random.default_rng(11)
    for _ in range(20):
        n_hits, n_cand = 6, 4
        pairs = np.array([(h, c) for h in range(n_hits) for c in range(n_cand) if rng.random() < 0.5])
        if not len(pairs):
            continue
        weight = rng.random(len(pairs)).round(3)
        group = rng.integers(0, 2, n_hits)
        c = matching_assignment(pairs[:, 0], pairs[:, 1], weight, n_hits, group_j=group)
        chosen = {(int(h), int(t)) for h, t in zip(c.hit_id, c.track_id, strict=True)}
        total = sum(w for (h, t), w in zip(map(tuple, pairs), weight, strict=True) if (h, t) in chosen)
        assert np.unique(c.hit_id).size == len(c)  # one candidate per hit
        assert total == pytest.approx(_best_total(pairs[:, 0], pairs[:, 1], weight, group))


def test_assign_dispatches_on_options_with_hit_ids_and_torch_input():
    hit_id = np.arange(N_HITS) + 500
    args = (torch.from_numpy(HIT), torch.from_numpy(CAND), torch.from_numpy(WEIGHT).float(), N_HITS)
    assert tracks_by_id(assign(*args, hit_id=hit_id)) == {0: {500}, 1: {500, 502, 503}}  # default: threshold 0.7
    expected = {
        AssignmentOptions(method="threshold", threshold=0.5): {0: {500, 501}, 1: {500, 502, 503}, 2: {503}},
        AssignmentOptions(method="argmax"): {0: {500, 501}, 1: {502, 503}, 2: {504}},
        AssignmentOptions(method="topk", k=1, min_hits=2): {0: {500, 501}, 1: {502, 503}},
        AssignmentOptions(method="matching"): {0: {501}, 1: {500, 502}, 2: {503, 504}},
    }
    for options, tracks in expected.items():
        assert tracks_by_id(assign(*args, options=options, group_j=LAYER, hit_id=hit_id)) == tracks


def test_empty_tables():
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 3)
    for method in ("threshold", "argmax", "topk", "matching"):
        assert len(assign(*empty, options=AssignmentOptions(method=method), group_j=np.zeros(3, int))) == 0
    assert len(matching_assignment(HIT, CAND, WEIGHT, N_HITS, group_j=LAYER, min_weight=0.99)) == 0


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((HIT, CAND, WEIGHT, 3), {}, "out of range"),
        ((HIT, CAND[:4], WEIGHT, N_HITS), {}, "candidate_index_e' of length"),
        ((HIT, CAND, WEIGHT[:2], N_HITS), {}, "one 'weight_e' value"),
        ((HIT, CAND, np.where(WEIGHT > 0.9, np.nan, WEIGHT), N_HITS), {}, "NaN"),
        ((HIT, -CAND, WEIGHT, N_HITS), {}, ">= 0"),
        ((np.append(HIT, 0), np.append(CAND, 0), np.append(WEIGHT, 0.1), N_HITS), {}, "more than once"),
        (
            (HIT, CAND, WEIGHT, N_HITS),
            {"options": AssignmentOptions(method="matching"), "group_j": LAYER[:2]},
            "group_j",
        ),
    ],
)
def test_bad_inputs_raise(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        assign(*args, **kwargs)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="Unknown assignment method"):
        AssignmentOptions(method="hungarian")
    with pytest.raises(ValueError, match="'k' >= 1"):
        AssignmentOptions(method="topk", k=0)


def test_module_key_separates_modules_that_share_an_id_across_volumes_and_layers():
    from trackcore.builders import module_key

    volume = np.array([8, 8, 8, 9, 8])
    layer = np.array([2, 2, 4, 2, 2])
    module = np.array([7, 7, 7, 7, 99_999])
    key = module_key(volume, layer, module)
    assert key[0] == key[1] and len(set(key.tolist())) == 4
    as_torch = module_key(torch.from_numpy(volume), torch.from_numpy(layer), torch.from_numpy(module))
    assert as_torch.tolist() == key.tolist()
