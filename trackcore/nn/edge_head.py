"""Edge classifier head: one logit per edge from its endpoint and edge states."""

from __future__ import annotations

import torch
from torch import nn

from trackcore.nn.mlp import MLP


class EdgeClassifierHead(nn.Module):
    r"""Edge logits :math:`s_{ij} = \phi([h_i, h_j, e_{ij}])` (Exa.TrkX, arXiv:2103.06995), or
    :math:`\phi(e_{ij})` with ``use_node_features=False``; :math:`\sigma(s_{ij})` is the edge score.

    Args:
        node_dim: node state width ``H_x``.
        edge_dim: edge state width ``H_e``; ``None`` means ``node_dim`` (default ``None``).
        hidden_dim: width of the MLP's hidden layers (default ``128``).
        n_layers: linear layers in the MLP (default ``3``).
        activation: hidden activation, see :class:`~trackcore.nn.MLP` (default ``"silu"``).
        layer_norm: LayerNorm in the hidden layers (default ``True``).
        dropout: dropout in the hidden layers (default ``0.0``).
        use_node_features: feed the source and target node states as well as the edge state
            (default ``True``).

    Shapes:
        x: ``(N, H_x)`` (unused without node features); edge_index: ``(2, E)`` int64, ``[0]`` source,
        ``[1]`` target; edge_attr: ``(E, H_e)`` -> logits ``(E,)``.
    """

    def __init__(
        self,
        *,
        node_dim: int,
        edge_dim: int | None = None,
        hidden_dim: int = 128,
        n_layers: int = 3,
        activation: str = "silu",
        layer_norm: bool = True,
        dropout: float = 0.0,
        use_node_features: bool = True,
    ) -> None:
        super().__init__()
        self.node_dim = node_dim
        self.edge_dim = node_dim if edge_dim is None else edge_dim
        self.use_node_features = use_node_features
        self.mlp = MLP(
            in_dim=self.edge_dim + (2 * node_dim if use_node_features else 0),
            out_dim=1,
            hidden_dim=hidden_dim,
            n_layers=n_layers,
            activation=activation,
            layer_norm=layer_norm,
            dropout=dropout,
        )

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        if edge_attr.dim() != 2 or edge_attr.size(1) != self.edge_dim:
            raise ValueError(f"Expected 'edge_attr' to have shape (E, {self.edge_dim}) (got {tuple(edge_attr.shape)})")
        if not self.use_node_features:
            return self.mlp(edge_attr).squeeze(-1)
        if x.dim() != 2 or x.size(1) != self.node_dim:
            raise ValueError(f"Expected 'x' to have shape (N, {self.node_dim}) (got {tuple(x.shape)})")
        if edge_index.dim() != 2 or edge_index.size(0) != 2 or edge_index.size(1) != edge_attr.size(0):
            raise ValueError(
                f"Expected 'edge_index' to have shape (2, {edge_attr.size(0)}), one column per edge "
                f"(got {tuple(edge_index.shape)})"
            )
        # = mlp(cat([x[src], x[dst], edge_attr])), in cache-sized chunks without gradients
        return self.mlp.forward_gathered(x, (edge_index[0], edge_index[1]), edge_attr).squeeze(-1)
