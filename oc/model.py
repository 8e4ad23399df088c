"""The object-condensation GNN: residual interaction network with a beta head and a cluster head."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from trackcore.nn import EDGE_FEATURE_NAMES, MLP, InteractionNetwork, geometric_edge_features


@dataclass(frozen=True)
class CondensationOutput:
    """Per-hit outputs of a :class:`CondensationGNN`.

    Shapes:
        beta: (N,) in (0, 1); coords: (N, D).
    """

    beta: torch.Tensor
    coords: torch.Tensor


class CondensationGNN(nn.Module):
    """Interaction network on a hit graph, then per-hit heads for beta and cluster coordinates.

    The heads read the final node state concatenated with the input features (a skip
    connection, as gnn_tracking's heads do).

    Args:
        node_in: number of hit features.
        cluster_dim: size of the cluster coordinates (8-24 in gnn_tracking).
        hidden_dim, n_iterations, aggrs, mlp_layers, activation: see
            :class:`trackcore.nn.InteractionNetwork` (residual updates are always on).
        head_layers: layers of each head MLP.
        edge_features: encode each edge from its geometry (:func:`trackcore.nn.geometric_edge_features`).

    Shapes:
        x: (N, node_in); edge_index: (2, E) -> :class:`CondensationOutput` with beta (N,) and
        coords (N, cluster_dim).
    """

    def __init__(
        self,
        *,
        node_in: int = 4,
        cluster_dim: int = 12,
        hidden_dim: int = 128,
        n_iterations: int = 5,
        aggrs: Sequence[str] = ("sum", "max"),
        mlp_layers: int = 2,
        activation: str = "silu",
        head_layers: int = 3,
        edge_features: bool = True,
    ) -> None:
        super().__init__()
        self.edge_features = edge_features
        self.gnn = InteractionNetwork(
            node_in=node_in, edge_in=len(EDGE_FEATURE_NAMES) if edge_features else 0, hidden_dim=hidden_dim,
            n_iterations=n_iterations, aggrs=tuple(aggrs), mlp_layers=mlp_layers, activation=activation,
            residual=True,
        )
        head_in = hidden_dim + node_in
        self.beta_head = MLP(in_dim=head_in, out_dim=1, hidden_dim=hidden_dim, n_layers=head_layers,
                             activation=activation)
        self.cluster_head = MLP(in_dim=head_in, out_dim=cluster_dim, hidden_dim=hidden_dim, n_layers=head_layers,
                                activation=activation)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> CondensationOutput:
        edge_attr = geometric_edge_features(x, edge_index) if self.edge_features else None
        h = torch.cat([self.gnn(x, edge_index, edge_attr).node, x], dim=1)
        return CondensationOutput(beta=torch.sigmoid(self.beta_head(h)).squeeze(-1), coords=self.cluster_head(h))
