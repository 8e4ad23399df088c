"""EggNet's contrastive loss: pinned on a hand-built event, pair sets, balance, errors."""

from __future__ import annotations

import pytest
import torch

from trackcore.losses import contrastive_loss


def _event():
    # two particles on a line and one noise hit; the embedding is chosen by hand
    x = torch.tensor([[0.0, 0.0], [0.3, 0.0], [0.0, 0.4], [2.0, 0.0], [2.0, 0.5]])
    pid = torch.tensor([1, 1, 1, 2, 0])
    track_edges = torch.tensor([[0, 1], [1, 2]])  # (0, 1) and (1, 2)
    return x, pid, track_edges


def test_pinned_value_of_the_true_edges_and_knn_pairs() -> None:
    x, pid, edges = _event()
    loss = contrastive_loss(x, pid, edges, k=1, n_random=0)
    # pairs: true edges (0,1), (1,2); 1-NN of each hit: 0-1, 1-0, 2-0, 3-4, 4-3 -> union {01, 12, 02, 34}
    # positives d^2: 0.09, 0.25 (|(0.3,0)-(0,0.4)| = 0.5), 0.16; negative (3,4): max(0, 1 - 0.5)^2 = 0.25
    assert loss.n_pairs == 4 and loss.positive_fraction == 0.75
    torch.testing.assert_close(loss.positive, torch.tensor((0.09 + 0.25 + 0.16) / 3))
    torch.testing.assert_close(loss.negative, torch.tensor(0.25))
    torch.testing.assert_close(loss.total, torch.tensor((0.09 + 0.25 + 0.16 + 0.25) / 4))
    balanced = contrastive_loss(x, pid, edges, k=1, n_random=0, balance=True)
    torch.testing.assert_close(balanced.total, balanced.positive + balanced.negative)


def test_random_pairs_are_seeded_and_never_self_pairs() -> None:
    x, pid, edges = _event()
    a = contrastive_loss(x, pid, edges, k=0, n_random=50, generator=torch.Generator().manual_seed(0))
    b = contrastive_loss(x, pid, edges, k=0, n_random=50, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a.total, b.total)
    assert a.n_pairs <= 10  # at most the 10 distinct unordered pairs of 5 hits


def test_gradient_pulls_positives_together() -> None:
    x, pid, edges = _event()
    x = x.clone().requires_grad_(True)
    contrastive_loss(x, pid, edges, k=0, n_random=0).total.backward()
    # hit 0 is pulled toward hits 1 (+x) and nothing else: the gradient points away from hit 1
    assert x.grad[0, 0] < 0 and torch.isfinite(x.grad).all()


def test_too_few_hits() -> None:
    with pytest.raises(ValueError, match="at least 2 hits"):
        contrastive_loss(torch.zeros(1, 3), torch.tensor([1]), torch.empty(2, 0, dtype=torch.long))
