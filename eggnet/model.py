"""The EggNet model: hit features to a unit-norm embedding through the evolving-graph attention block."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trackcore.nn import MLP, EvolvingGraphAttention


@dataclass(frozen=True)
class EggNetOutput:
    """Per-hit outputs of :class:`EggNet` and the graphs it built.

    Shapes:
        embedding: (N, emb_dim), unit norm; beta: (N,) in (0, 1), or None without a beta head;
        graphs: one (2, E_i) kNN graph per iteration; graph_embeddings: the (N, emb_dim)
        embedding each graph was searched in.
    """

    embedding: torch.Tensor
    beta: torch.Tensor | None
    graphs: list[torch.Tensor]
    graph_embeddings: list[torch.Tensor]


class EggNet(nn.Module):
    """EggNet (Calafiura et al. 2024): one-shot tracking from the point cloud, no input graph.

    An encoder MLP maps each hit's features to the node state; a
    :class:`trackcore.nn.EvolvingGraphAttention` block rebuilds a kNN graph in its decoded
    embedding every iteration and runs attention message passing on it. With ``beta_head`` a
    per-hit condensation strength is output too (for the OC loss and condensation points).

    Args:
        in_dim: hit features (4: r, phi, z, eta).
        hidden_dim, emb_dim, n_iterations, steps_per_iteration, k, share_weights, restart,
            mlp_layers, activation, knn_backend: see :class:`trackcore.nn.EvolvingGraphAttention`.
        encoder_layers: layers of the encoder MLP.
        beta_head: also output ``beta``.

    Shapes:
        x: (N, in_dim) -> :class:`EggNetOutput`.
    """

    def __init__(
        self,
        *,
        in_dim: int = 4,
        hidden_dim: int = 128,
        emb_dim: int = 24,
        n_iterations: int = 4,
        steps_per_iteration: int = 8,
        k: int = 10,
        share_weights: bool = True,
        restart: bool = True,
        encoder_layers: int = 3,
        mlp_layers: int = 2,
        activation: str = "silu",
        knn_backend: str = "auto",
        beta_head: bool = False,
    ) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.encoder = MLP(in_dim=in_dim, out_dim=hidden_dim, hidden_dim=hidden_dim, n_layers=encoder_layers,
                           activation=activation, output_activation=activation, output_layer_norm=True)
        self.block = EvolvingGraphAttention(
            hidden_dim=hidden_dim, emb_dim=emb_dim, n_iterations=n_iterations,
            steps_per_iteration=steps_per_iteration, k=k, share_weights=share_weights, restart=restart,
            mlp_layers=mlp_layers, activation=activation, knn_backend=knn_backend,
        )
        self.beta_head = (
            MLP(in_dim=hidden_dim, out_dim=1, hidden_dim=hidden_dim, n_layers=mlp_layers, activation=activation)
            if beta_head else None
        )

    @property
    def has_beta(self) -> bool:
        """Whether the model outputs ``beta``."""
        return self.beta_head is not None

    def forward(self, x: torch.Tensor) -> EggNetOutput:
        if x.dim() != 2 or x.size(1) != self.in_dim:
            raise ValueError(f"Expected 'x' of shape (N, {self.in_dim}) (got {tuple(x.shape)})")
        if not torch.isfinite(x).all():
            raise ValueError("'x' has NaN or infinite features")
        out = self.block(self.encoder(x))
        beta = None if self.beta_head is None else torch.sigmoid(self.beta_head(out.node)).squeeze(-1)
        return EggNetOutput(embedding=out.embedding, beta=beta, graphs=out.graphs,
                            graph_embeddings=out.graph_embeddings)
