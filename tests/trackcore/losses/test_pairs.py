from __future__ import annotations

import itertools

import pytest
import torch

from trackcore.losses import knn_pairs, merge_pairs, pair_labels, radius_pairs, random_pairs, true_pairs
from trackcore.neighbors import knn_graph, radius_graph


def brute_force_true_pairs(pid: torch.Tensor) -> list[tuple[int, int]]:
    ids = pid.tolist()
    return [(i, j) for i in range(len(ids)) for j in range(i + 1, len(ids)) if ids[i] == ids[j] != 0]


def as_list(pairs: torch.Tensor) -> list[tuple[int, int]]:
    return [tuple(p) for p in pairs.t().tolist()]


@pytest.fixture
def event_pid() -> torch.Tensor:
    # ids 0..15 over 80 hits in random order: noise (0), single-hit particles, particles with many hits
    pid = torch.randint(0, 16, (80,), generator=torch.Generator().manual_seed(3))
    pid[[5, 40]] = torch.tensor([101, 102])
    return pid


def test_true_pairs_match_double_loop(event_pid: torch.Tensor) -> None:
    pairs = true_pairs(event_pid)
    assert pairs.dtype == torch.int64 and pairs.shape[0] == 2
    assert as_list(pairs) == brute_force_true_pairs(event_pid)
    hits_in_pairs = set(pairs.flatten().tolist())
    assert not hits_in_pairs & set(torch.nonzero(event_pid == 0).flatten().tolist())
    assert 5 not in hits_in_pairs and 40 not in hits_in_pairs


def test_true_pairs_hand_example() -> None:
    pid = torch.tensor([0, 3, 3, 5, 3, 5, 7, 0], dtype=torch.int32)
    assert as_list(true_pairs(pid)) == [(1, 2), (1, 4), (2, 4), (3, 5)]
    assert true_pairs(torch.zeros(4, dtype=torch.int64)).shape == (2, 0)
    assert true_pairs(torch.tensor([1, 2, 3])).shape == (2, 0)
    assert true_pairs(torch.empty(0, dtype=torch.int64)).shape == (2, 0)


def test_true_pairs_cap_subsamples_each_particle(event_pid: torch.Tensor) -> None:
    full = set(as_list(true_pairs(event_pid)))
    cap = 4
    capped = true_pairs(event_pid, max_pairs_per_particle=cap, generator=torch.Generator().manual_seed(0))
    got = as_list(capped)
    assert len(set(got)) == len(got) and set(got) <= full
    counts = torch.bincount(event_pid[capped[0]], minlength=103)
    sizes = torch.bincount(event_pid, minlength=103)
    expected = torch.clamp(sizes * (sizes - 1) // 2, max=cap)
    expected[0] = 0
    assert torch.equal(counts, expected)
    again = true_pairs(event_pid, max_pairs_per_particle=cap, generator=torch.Generator().manual_seed(0))
    other = true_pairs(event_pid, max_pairs_per_particle=cap, generator=torch.Generator().manual_seed(1))
    assert torch.equal(capped, again)
    assert not torch.equal(capped, other)
    # a cap no particle reaches changes nothing
    assert torch.equal(true_pairs(event_pid, max_pairs_per_particle=10_000), true_pairs(event_pid))


def test_true_pairs_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="integer"):
        true_pairs(torch.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match="1-dimensional"):
        true_pairs(torch.ones(2, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match="max_pairs_per_particle"):
        true_pairs(torch.tensor([1, 1]), max_pairs_per_particle=0)


@pytest.mark.parametrize("num_nodes", [2, 4, 37])
def test_random_pairs_never_self(num_nodes: int) -> None:
    pairs = random_pairs(num_nodes, 5000, generator=torch.Generator().manual_seed(0))
    assert pairs.shape == (2, 5000) and pairs.dtype == torch.int64
    assert bool((pairs[0] != pairs[1]).all())
    assert int(pairs.min()) >= 0 and int(pairs.max()) < num_nodes
    if num_nodes == 4:  # every ordered pair i != j occurs
        assert set(as_list(pairs)) == set(itertools.permutations(range(4), 2))


def test_random_pairs_edge_cases() -> None:
    assert random_pairs(1, 0).shape == (2, 0)
    a = random_pairs(10, 20, generator=torch.Generator().manual_seed(7), device="cpu")
    b = random_pairs(10, 20, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and a.device.type == "cpu"
    with pytest.raises(ValueError, match="num_nodes"):
        random_pairs(1, 3)
    with pytest.raises(ValueError, match="n_pairs"):
        random_pairs(10, -1)


def test_knn_pairs_equal_neighbor_graph() -> None:
    x = torch.randn(120, 4, generator=torch.Generator().manual_seed(0), requires_grad=True)
    pairs = knn_pairs(x, 6, backend="torch")
    assert torch.equal(pairs, knn_graph(x.detach(), 6, backend="torch").edge_index)
    assert pairs.shape == (2, 120 * 6) and not bool((pairs[0] == pairs[1]).any())


def test_radius_pairs_equal_neighbor_graph() -> None:
    x = torch.rand(150, 3, generator=torch.Generator().manual_seed(1), requires_grad=True)
    pairs = radius_pairs(x, 0.2, max_num_neighbors=5, backend="torch")
    assert torch.equal(pairs, radius_graph(x.detach(), 0.2, max_num_neighbors=5, backend="torch").edge_index)
    assert not bool((pairs[0] == pairs[1]).any())
    uncapped = radius_pairs(x, 0.2, backend="kdtree")
    assert torch.equal(uncapped, radius_graph(x.detach(), 0.2, backend="kdtree").edge_index)
    assert uncapped.size(1) > pairs.size(1)


def test_pair_labels_hand_example() -> None:
    pid = torch.tensor([0, 0, 4, 4, 9])
    pairs = torch.tensor([[0, 2, 3, 2, 4], [1, 3, 2, 4, 4]])
    # noise with noise is never a positive; a self pair of a particle hit is
    assert pair_labels(pairs, pid).tolist() == [False, True, True, False, True]


def test_pair_labels_rejects_bad_pairs() -> None:
    pid = torch.tensor([1, 1, 2])
    with pytest.raises(ValueError, match=r"shape \(2, P\)"):
        pair_labels(torch.tensor([[0, 1, 2]]), pid)
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        pair_labels(torch.tensor([[0], [3]]), pid)
    with pytest.raises(ValueError, match="integer"):
        pair_labels(torch.tensor([[0.0], [1.0]]), pid)


def test_merge_pairs_removes_reversed_duplicates() -> None:
    a = torch.tensor([[0, 3, 1, 1], [1, 2, 0, 1]])
    b = torch.tensor([[2, 5], [3, 4]])
    merged = merge_pairs(a, b)
    assert as_list(merged) == [(0, 1), (1, 1), (2, 3), (4, 5)]
    assert torch.equal(merge_pairs(b, a), merged)
    assert merge_pairs(torch.empty(2, 0, dtype=torch.int64)).shape == (2, 0)


def test_merge_pairs_of_samplers_counts_each_pair_once(event_pid: torch.Tensor) -> None:
    x = torch.randn(80, 3, generator=torch.Generator().manual_seed(2))
    parts = [true_pairs(event_pid), knn_pairs(x, 5, backend="torch"), random_pairs(80, 300)]
    merged = merge_pairs(*parts)
    expected = sorted({(min(i, j), max(i, j)) for p in parts for i, j in as_list(p)})
    assert as_list(merged) == expected


def test_merge_pairs_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least one"):
        merge_pairs()
    with pytest.raises(ValueError, match=r"pairs\[1\].*shape \(2, P\)"):
        merge_pairs(torch.zeros(2, 1, dtype=torch.int64), torch.zeros(3, 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="non-negative"):
        merge_pairs(torch.tensor([[0], [-1]]))
