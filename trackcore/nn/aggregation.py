"""Per-node reductions of edge messages (sum, mean, max, min, std), concatenated."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch

AGGREGATIONS: tuple[str, ...] = ("sum", "mean", "max", "min", "std")
"""Every reduction that :func:`aggregate` knows."""


def check_aggrs(aggrs: str | Sequence[str]) -> tuple[str, ...]:
    """``aggrs`` as a tuple of distinct known names (a single string is one aggregation).

    Raises:
        ValueError: for an empty list, an unknown name or a repeated one.
    """
    names = (aggrs,) if isinstance(aggrs, str) else tuple(aggrs)
    if not names:
        raise ValueError(f"Expected at least one aggregation (one or more of {list(AGGREGATIONS)})")
    unknown = [a for a in names if a not in AGGREGATIONS]
    if unknown:
        raise ValueError(f"Unknown aggregation {unknown[0]!r} (expected one or more of {list(AGGREGATIONS)})")
    if len(set(names)) != len(names):
        raise ValueError(f"Expected distinct aggregations (got {list(names)})")
    return names


def sum_operator(index_e: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """The sparse ``(N, E)`` matrix ``S`` (CSR) with ``S[i, e] = 1`` where ``index_e[e] == i``: ``S @ m`` is each
    node's sum of the messages ``m``, the same sums as ``index_add`` (each node's messages in edge order).

    On the CPU the sparse product is faster than ``index_add`` (more so for an unsorted index) and the
    matrix serves every aggregation over one graph: an :class:`~trackcore.nn.InteractionNetwork`
    builds one per direction per forward pass and hands it to :func:`aggregate` (``sums``) in each
    iteration.

    Shapes:
        index_e: ``(E,)`` int64 in ``[0, N)`` -> ``(N, E)`` sparse CSR, float32.
    """
    if index_e.dim() != 1 or index_e.dtype != torch.int64:
        raise ValueError(
            f"Expected 'index_e' of shape (E,) and type int64 (got {tuple(index_e.shape)}, {index_e.dtype})")
    if index_e.numel() and (int(index_e.min()) < 0 or int(index_e.max()) >= num_nodes):
        raise ValueError(f"Expected 'index_e' in [0, {num_nodes}) (got {int(index_e.min())}..{int(index_e.max())})")
    order = torch.argsort(index_e, stable=True)  # each node's edges in their given order
    rows = index_e.new_zeros(num_nodes + 1)
    torch.cumsum(torch.bincount(index_e, minlength=num_nodes), 0, out=rows[1:])
    ones = torch.ones(index_e.numel(), device=index_e.device)
    with warnings.catch_warnings():  # torch's notice that sparse CSR tensors are in beta, once per process
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(rows, order, ones, size=(num_nodes, index_e.numel()), check_invariants=False)


def sums_by_operator(aggrs: Sequence[str], device: torch.device) -> bool:
    """Whether a network should hand :func:`aggregate` :func:`sum_operator` s now: inference (no gradients) on
    the CPU, with an aggregation that sums (``sum``, ``mean``, ``std``)."""
    return not torch.is_grad_enabled() and device.type == "cpu" and bool({"sum", "mean", "std"} & set(aggrs))


def aggregate(
    messages_e: torch.Tensor,
    index_e: torch.Tensor,
    num_nodes: int,
    aggrs: str | Sequence[str],
    *,
    eps: float = 1e-5,
    sums: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Reduce edge messages onto nodes with each aggregation in ``aggrs`` and concatenate the results.

    For node :math:`i` with incoming messages :math:`\{m_e : \mathrm{index}_e = i\}`: ``sum``, ``mean``,
    ``max`` and ``min`` are feature-wise; ``std`` is :math:`\sqrt{\mathrm{var} + \epsilon}` with
    :math:`\mathrm{var} = \overline{m^2} - \bar m^2` clamped at 0 (the population variance, as in PyG's
    ``StdAggregation``; ``eps`` keeps its gradient finite when all messages agree). A node with no
    messages gets 0 from every aggregation, never ``-inf`` or ``sqrt(eps)``.

    Differentiable in ``messages_e`` (``max``/``min`` split the gradient evenly between tied
    maxima). Deterministic on CPU; on CUDA the sums follow ``torch.use_deterministic_algorithms``.

    Args:
        messages_e: one message per edge.
        index_e: the node each message goes to (the target for incoming, the source for outgoing).
        num_nodes: number of nodes ``N`` (nodes past the largest index get zeros).
        aggrs: names from :data:`AGGREGATIONS`, in the order of the output blocks; a single string
            is one aggregation.
        eps: added to the variance before the square root (default ``1e-5``).
        sums: :func:`sum_operator` of ``index_e`` (or None): without gradients the sums (of ``sum``, ``mean``,
            ``std``) are its sparse product with the messages instead of an ``index_add``.

    Shapes:
        messages_e: ``(E, F)``; index_e: ``(E,)`` int64 in ``[0, N)`` -> ``(N, len(aggrs) * F)``.
    """
    names = check_aggrs(aggrs)
    if messages_e.dim() != 2:
        raise ValueError(f"Expected 'messages_e' to have shape (E, F) (got {tuple(messages_e.shape)})")
    if index_e.dim() != 1 or index_e.numel() != messages_e.size(0):
        raise ValueError(
            f"Expected 'index_e' to have shape ({messages_e.size(0)},), one entry per message "
            f"(got {tuple(index_e.shape)})"
        )
    if index_e.dtype != torch.int64:
        raise ValueError(f"Expected 'index_e' to be of type torch.int64 (got {index_e.dtype})")
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or num_nodes < 0:
        raise ValueError(f"Expected 'num_nodes' to be a non-negative int (got {num_nodes!r})")

    if sums is not None and (sums.layout != torch.sparse_csr or tuple(sums.shape) != (num_nodes, index_e.numel())):
        raise ValueError(f"Expected 'sums' to be the sparse CSR sum_operator ({num_nodes}, {index_e.numel()}) of "
                         f"'index_e' (got {sums.layout}, {tuple(sums.shape)})")
    n_features = messages_e.size(1)
    out_shape = (num_nodes, n_features)
    index_ef = index_e.unsqueeze(1).expand_as(messages_e)
    cache: dict[str, torch.Tensor] = {}

    def count() -> torch.Tensor:
        if "count" not in cache:
            # index_add rather than bincount, which would sync with a GPU to size its output
            ones = torch.ones(index_e.numel(), 1, device=messages_e.device)
            cache["count"] = ones.new_zeros(num_nodes, 1).index_add(0, index_e, ones).to(messages_e.dtype)
        return cache["count"]

    def total(values_e: torch.Tensor, key: str) -> torch.Tensor:
        if key not in cache:
            if sums is not None and not torch.is_grad_enabled() and values_e.dtype == sums.dtype:
                cache[key] = torch.sparse.mm(sums, values_e)
            else:
                cache[key] = values_e.new_zeros(out_shape).index_add(0, index_e, values_e)
        return cache[key]

    def mean() -> torch.Tensor:
        return total(messages_e, "sum") / count().clamp(min=1)

    def extreme(reduce: str) -> torch.Tensor:
        # include_self=False leaves the zeros of nodes without messages, and sends no gradient to them.
        return messages_e.new_zeros(out_shape).scatter_reduce(0, index_ef, messages_e, reduce, include_self=False)

    def std() -> torch.Tensor:
        mean_of_squares = total(messages_e * messages_e, "sum_sq") / count().clamp(min=1)
        var = (mean_of_squares - mean().square()).clamp(min=0)
        return torch.where(count() > 0, (var + eps).sqrt(), torch.zeros_like(var))

    reductions = {
        "sum": lambda: total(messages_e, "sum"),
        "mean": mean,
        "max": lambda: extreme("amax"),
        "min": lambda: extreme("amin"),
        "std": std,
    }
    return torch.cat([reductions[name]() for name in names], dim=1)
