"""The Exa.TrkX edge classifier's network: an interaction network and an edge head, one logit per edge
(Ju et al., arXiv:2103.06995; acorn ``InteractionGNN``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from trackcore.nn import EDGE_FEATURE_NAMES, EdgeClassifierHead, InteractionNetwork, geometric_edge_features


class InteractionGNN(nn.Module):
    """Interaction network plus edge head: one logit per input edge.

    Args:
        node_in: number of hit features.
        hidden_dim, n_iterations, aggrs, mlp_layers, activation, residual, share_weights:
            see :class:`trackcore.nn.InteractionNetwork`.
        head_layers: layers of the edge classifier MLP.
        edge_features: encode each edge from its geometry (:func:`trackcore.nn.geometric_edge_features`,
            needs ``x`` to start with ``r, phi, z``) instead of from its two node encodings.

    Shapes:
        x: (N, node_in); edge_index: (2, E) -> logits (E,).
    """

    def __init__(
        self,
        *,
        node_in: int = 4,
        hidden_dim: int = 128,
        n_iterations: int = 8,
        aggrs: Sequence[str] = ("sum", "max"),
        mlp_layers: int = 2,
        activation: str = "silu",
        residual: bool = True,
        share_weights: bool = False,
        head_layers: int = 3,
        edge_features: bool = False,
    ) -> None:
        super().__init__()
        self.edge_features = edge_features
        self.gnn = InteractionNetwork(
            node_in=node_in, edge_in=len(EDGE_FEATURE_NAMES) if edge_features else 0, hidden_dim=hidden_dim,
            n_iterations=n_iterations, aggrs=tuple(aggrs),
            mlp_layers=mlp_layers, activation=activation, residual=residual, share_weights=share_weights,
        )
        self.head = EdgeClassifierHead(node_dim=hidden_dim, edge_dim=hidden_dim, hidden_dim=hidden_dim,
                                       n_layers=head_layers, activation=activation)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        edge_attr = geometric_edge_features(x, edge_index) if self.edge_features else None
        out = self.gnn(x, edge_index, edge_attr)
        return self.head(out.node, edge_index, out.edge)
