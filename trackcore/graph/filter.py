"""Optional stage 2 of the Exa.TrkX pipeline: an edge filter that thins the constructed graph.

An MLP scores each edge of the metric-learning graph from its two hits' features (and,
optionally, the pair's geometry); edges below a loose cut are dropped, so the interaction
network trains and runs on a smaller, purer graph (Ju et al., arXiv:2103.06995; acorn
``Filter``). ``predict`` writes the thinned graph (``edge_index``, ``edge_score``) for the
next stage.
"""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.graph.edge_scoring import EdgeScoringModule
from trackcore.nn import EDGE_FEATURE_NAMES, MLP, geometric_edge_features


class FilterMLP(nn.Module):
    """Edge MLP: ``[x_i, x_j(, geometry)] -> logit``.

    Args:
        node_in: number of hit features.
        hidden_dim, n_layers, activation, layer_norm: the MLP.
        edge_features: append :func:`trackcore.nn.geometric_edge_features` (``x`` must start
            with ``r, phi, z``).

    Shapes:
        x: (N, node_in); edge_index: (2, E) -> logits (E,).
    """

    def __init__(
        self,
        *,
        node_in: int = 4,
        hidden_dim: int = 256,
        n_layers: int = 4,
        activation: str = "silu",
        layer_norm: bool = True,
        edge_features: bool = True,
    ) -> None:
        super().__init__()
        self.edge_features = edge_features
        in_dim = 2 * node_in + (len(EDGE_FEATURE_NAMES) if edge_features else 0)
        self.mlp = MLP(in_dim=in_dim, out_dim=1, hidden_dim=hidden_dim, n_layers=n_layers,
                       activation=activation, layer_norm=layer_norm)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        parts = [x.index_select(0, edge_index[0]), x.index_select(0, edge_index[1])]
        if self.edge_features:
            parts.append(geometric_edge_features(x, edge_index))
        return self.mlp(torch.cat(parts, dim=1)).squeeze(-1)


class EdgeFilter(EdgeScoringModule):
    """Task module of the filter stage.

    Args:
        model: a :class:`FilterMLP` (any module ``(x, edge_index) -> logits``).
        optimizer, scheduler, min_pt, min_hits: see :class:`~trackcore.train.TrackingModule`.
        pos_weight: weight of true (same-particle) edges in the BCE.
        edge_cut: edges scoring above it are kept (loose: the filter must keep true edges).
    """

    def __init__(
        self,
        *,
        model: nn.Module,
        optimizer: OptimizerCallable = torch.optim.Adam,
        scheduler: LRSchedulerCallable | None = None,
        min_pt: float = 1.0,
        min_hits: int = 3,
        pos_weight: float = 2.0,
        edge_cut: float = 0.1,
    ) -> None:
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         pos_weight=pos_weight, edge_cut=edge_cut)

    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        """The thinned graph: the input edges scoring above ``edge_cut``, with their scores."""
        scores = self.edge_scores(event)
        keep = scores > self.edge_cut
        return {"edge_index": event.edge_index[:, keep], "edge_score": scores[keep]}

    def input_edge_scores(self, event: Any, outputs: dict[str, torch.Tensor]) -> torch.Tensor:
        # infer keeps only the edges above the cut; the metrics (AUC) need every input edge's score.
        return self.edge_scores(event)
