from __future__ import annotations

import pytest
import torch

from trackcore.nn import AGGREGATIONS, aggregate

EPS = 1e-5


def random_messages(n_edges: int, n_features: int, n_targets: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Messages ``(n_edges, n_features)`` and their target nodes, drawn from ``[0, n_targets)``."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n_edges, n_features, generator=gen), torch.randint(0, n_targets, (n_edges,), generator=gen)


def naive(messages_e: torch.Tensor, index_e: torch.Tensor, num_nodes: int, aggr: str) -> torch.Tensor:
    """One node at a time, with torch's own reductions (two-pass variance)."""
    rows = []
    for i in range(num_nodes):
        m = messages_e[index_e == i]
        if len(m) == 0:
            rows.append(torch.zeros(messages_e.size(1), dtype=messages_e.dtype))
        elif aggr == "std":
            rows.append((m.var(dim=0, unbiased=False) + EPS).sqrt())
        else:
            rows.append({"sum": m.sum, "mean": m.mean, "max": m.amax, "min": m.amin}[aggr](dim=0))
    return torch.stack(rows)


@pytest.mark.parametrize("aggr", AGGREGATIONS)
def test_matches_naive_loop(aggr: str) -> None:
    messages_e, index_e = random_messages(n_edges=30, n_features=3, n_targets=16)
    index_e[:6] = 2  # one node with many messages; the random draw leaves others with one or none
    index_e[index_e == 7] = 8  # an empty node in the middle
    num_nodes = 20  # nodes past the largest index
    out = aggregate(messages_e, index_e, num_nodes, [aggr], eps=EPS)
    assert out.shape == (num_nodes, 3)
    torch.testing.assert_close(out, naive(messages_e, index_e, num_nodes, aggr), atol=1e-5, rtol=1e-5)
    empty = torch.bincount(index_e, minlength=num_nodes) == 0
    single = torch.bincount(index_e, minlength=num_nodes) == 1
    assert empty.sum() >= 5 and single.any() and (out[empty] == 0).all()


def test_blocks_concatenate_in_the_given_order() -> None:
    messages_e, index_e = random_messages(n_edges=25, n_features=4, n_targets=10)
    out = aggregate(messages_e, index_e, 10, ["max", "sum", "std"])
    singles = [aggregate(messages_e, index_e, 10, name) for name in ("max", "sum", "std")]
    assert out.shape == (10, 12)
    torch.testing.assert_close(out, torch.cat(singles, dim=1), rtol=0, atol=0)


def test_no_edges_gives_zeros() -> None:
    messages_e = torch.zeros(0, 3, requires_grad=True)
    out = aggregate(messages_e, torch.zeros(0, dtype=torch.long), 4, AGGREGATIONS)
    assert out.shape == (4, 15) and (out == 0).all()
    out.sum().backward()
    assert messages_e.grad.shape == (0, 3)


def test_gradcheck_all_aggregations() -> None:
    gen = torch.Generator().manual_seed(1)
    messages_e = torch.randn(15, 2, generator=gen, dtype=torch.float64, requires_grad=True)
    index_e = torch.randint(0, 5, (15,), generator=gen)
    assert torch.autograd.gradcheck(lambda m: aggregate(m, index_e, 7, AGGREGATIONS), (messages_e,))


def test_std_of_equal_messages_has_finite_gradient() -> None:
    messages_e = torch.full((3, 2), 0.7, requires_grad=True)
    out = aggregate(messages_e, torch.zeros(3, dtype=torch.long), 2, "std", eps=EPS)
    torch.testing.assert_close(out, torch.tensor([[EPS**0.5] * 2, [0.0, 0.0]]))
    out.sum().backward()
    assert torch.isfinite(messages_e.grad).all()


@pytest.mark.parametrize(
    ("aggrs", "match"),
    [
        (["sum", "median"], r"Unknown aggregation 'median' \(expected one or more of \['sum', 'mean'"),
        ([], "at least one aggregation"),
        (["sum", "max", "sum"], "distinct aggregations"),
    ],
)
def test_bad_aggregations_raise(aggrs: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        aggregate(torch.randn(3, 2), torch.zeros(3, dtype=torch.long), 2, aggrs)


def test_bad_inputs_raise() -> None:
    m, idx = torch.randn(3, 2), torch.zeros(3, dtype=torch.long)
    with pytest.raises(ValueError, match=r"'messages_e' to have shape \(E, F\)"):
        aggregate(m[0], idx, 2, "sum")
    with pytest.raises(ValueError, match=r"'index_e' to have shape \(3,\), one entry per message \(got \(2,\)\)"):
        aggregate(m, idx[:2], 2, "sum")
    with pytest.raises(ValueError, match="torch.int64"):
        aggregate(m, idx.int(), 2, "sum")
    with pytest.raises(ValueError, match="'num_nodes' to be a non-negative int"):
        aggregate(m, idx, -1, "sum")


@pytest.mark.parametrize("n_targets", [1, 7, 40])  # 40: nodes past the largest index and nodes without messages
def test_sum_operator_gives_the_same_aggregations_without_gradients(n_targets: int) -> None:
    from trackcore.nn import sum_operator

    messages, index = random_messages(60, 4, min(n_targets, 30), seed=5)
    sums = sum_operator(index, n_targets)
    assert sums.layout == torch.sparse_csr and tuple(sums.shape) == (n_targets, 60)
    expected = aggregate(messages, index, n_targets, AGGREGATIONS)
    with torch.no_grad():
        got = aggregate(messages, index, n_targets, AGGREGATIONS, sums=sums)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)
    # with gradients the operator is not used (index_add's backward), and the result is the same
    grad_messages = messages.clone().requires_grad_()
    with_grad = aggregate(grad_messages, index, n_targets, ("sum", "max"), sums=sums)
    with_grad.sum().backward()
    assert grad_messages.grad is not None and torch.isfinite(grad_messages.grad).all()


def test_sum_operator_checks_its_inputs() -> None:
    from trackcore.nn import sum_operator

    messages, index = random_messages(10, 2, 5)
    with pytest.raises(ValueError, match=r"in \[0, 4\)"):
        sum_operator(index, 4 if int(index.max()) >= 4 else 0)
    with pytest.raises(ValueError, match="int64"):
        sum_operator(index.int(), 5)
    with pytest.raises(ValueError, match="sum_operator"):
        aggregate(messages, index, 6, "sum", sums=sum_operator(index, 5))
    assert tuple(sum_operator(index[:0], 3).shape) == (3, 0)
