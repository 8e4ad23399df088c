"""Small seeded random graphs for the building-block tests."""

from __future__ import annotations

import torch


def random_graph(
    n_nodes: int = 30, n_edges: int = 90, n_features: int = 5, n_isolated: int = 4, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Node features ``(n_nodes, n_features)`` and a random ``(2, n_edges)`` edge index that leaves the last
    ``n_isolated`` nodes with no edge at all (so the largest index is not the last node)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_nodes, n_features, generator=gen)
    edge_index = torch.randint(0, n_nodes - n_isolated, (2, n_edges), generator=gen)
    return x, edge_index


def param_grads_ok(module: torch.nn.Module, *, nonzero: bool) -> list[str]:
    """Names of parameters whose gradient is missing, non-finite, or (with ``nonzero``) all zero."""
    bad = []
    for name, p in module.named_parameters():
        if p.grad is None or not torch.isfinite(p.grad).all() or (nonzero and not p.grad.abs().sum() > 0):
            bad.append(name)
    return bad
