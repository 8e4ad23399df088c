"""The evolving-graph attention block of EggNet: a kNN graph rebuilt in the learned space every iteration."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from trackcore.neighbors import knn_graph
from trackcore.nn.graph_attention import GraphAttentionStep
from trackcore.nn.mlp import MLP


@dataclass(frozen=True)
class EvolvingGraphOutput:
    """What an :class:`EvolvingGraphAttention` block computed.

    Shapes:
        embedding: (N, emb_dim), unit norm, differentiable; node: (N, hidden_dim);
        graphs: one (2, E_i) kNN graph per iteration (``[0]`` neighbour, ``[1]`` query);
        graph_embeddings: the detached (N, emb_dim) embedding each graph was searched in.
    """

    embedding: torch.Tensor
    node: torch.Tensor
    graphs: list[torch.Tensor]
    graph_embeddings: list[torch.Tensor]


class EvolvingGraphAttention(nn.Module):
    """EggNet's block: iterations of (decode, kNN graph in the decoded space, attention steps).

    Each iteration decodes the node state to a unit-norm embedding (detached), searches its
    ``k`` nearest neighbours through :mod:`trackcore.neighbors` (FAISS or a KD-tree: exact, no
    all-pairs matrix), restarts the node state from the block's input (``restart=True``) or keeps
    it, encodes every edge from its end nodes and runs ``steps_per_iteration``
    :class:`~trackcore.nn.graph_attention.GraphAttentionStep`s on that graph. The last node state
    is decoded to the output embedding (with gradient). The graph is what evolves: with
    ``restart`` the iterations share nothing else.

    Args:
        hidden_dim: node and edge state size (the input ``h0`` has this size).
        emb_dim: size of the decoded embedding (24 in EggNet).
        n_iterations: graph rebuilds (4 in EggNet); 1 is a single GNN on the graph of the input.
        steps_per_iteration: attention steps on each graph (8 in EggNet).
        k: neighbours per hit in each graph (10 in EggNet).
        share_weights: one set of edge encoder and steps for all iterations (EggNet) or one per
            iteration. Steps within an iteration always have their own weights.
        restart: restart the node state from ``h0`` at every iteration (EggNet).
        mlp_layers, activation: the MLPs.
        knn_backend: :func:`trackcore.neighbors.knn_graph` backend (``"auto"``: FAISS on GPU
            where there is one).
        edge_chunk_size: see :class:`~trackcore.nn.graph_attention.GraphAttentionStep`.

    Shapes:
        h0: (N, hidden_dim) -> :class:`EvolvingGraphOutput`.
    """

    def __init__(
        self,
        *,
        hidden_dim: int = 128,
        emb_dim: int = 24,
        n_iterations: int = 4,
        steps_per_iteration: int = 8,
        k: int = 10,
        share_weights: bool = True,
        restart: bool = True,
        mlp_layers: int = 2,
        activation: str = "silu",
        knn_backend: str = "auto",
        edge_chunk_size: int | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("hidden_dim", hidden_dim), ("emb_dim", emb_dim), ("n_iterations", n_iterations),
                            ("steps_per_iteration", steps_per_iteration), ("k", k)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int (got {value!r})")
        self.hidden_dim, self.emb_dim, self.k = hidden_dim, emb_dim, k
        self.n_iterations, self.steps_per_iteration = n_iterations, steps_per_iteration
        self.share_weights, self.restart, self.knn_backend = share_weights, restart, knn_backend
        hidden = dict(hidden_dim=hidden_dim, n_layers=mlp_layers, activation=activation,
                      output_activation=activation, output_layer_norm=True)
        n_sets = 1 if share_weights else n_iterations
        self.edge_encoders = nn.ModuleList(MLP(in_dim=2 * hidden_dim, out_dim=hidden_dim, **hidden)
                                           for _ in range(n_sets))
        self.steps = nn.ModuleList(
            nn.ModuleList(GraphAttentionStep(hidden_dim=hidden_dim, mlp_layers=mlp_layers, activation=activation,
                                             edge_chunk_size=edge_chunk_size) for _ in range(steps_per_iteration))
            for _ in range(n_sets)
        )
        self.decoder = MLP(in_dim=hidden_dim, out_dim=emb_dim, hidden_dim=hidden_dim, n_layers=mlp_layers,
                           activation=activation)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """The unit-norm embedding of node states.

        Shapes:
            h: (N, hidden_dim) -> (N, emb_dim).
        """
        return F.normalize(self.decoder(h), dim=-1)

    def graph(self, embedding: torch.Tensor) -> torch.Tensor:
        """The kNN graph of an embedding, without self loops (``[0]`` neighbour, ``[1]`` query).

        Shapes:
            embedding: (N, emb_dim) -> (2, E) with E <= N k.
        """
        return knn_graph(embedding.detach(), self.k, loop=False, backend=self.knn_backend).edge_index

    def forward(self, h0: torch.Tensor) -> EvolvingGraphOutput:
        if h0.dim() != 2 or h0.size(1) != self.hidden_dim:
            raise ValueError(f"Expected 'h0' of shape (N, {self.hidden_dim}) (got {tuple(h0.shape)})")
        if h0.size(0) < 2:
            raise ValueError(f"an event needs at least 2 hits for a kNN graph (got {h0.size(0)})")
        h = h0
        graphs, graph_embeddings = [], []
        for it in range(self.n_iterations):
            embedding = self.decode(h).detach()
            edge_index = self.graph(embedding)
            graphs.append(edge_index)
            graph_embeddings.append(embedding)
            if self.restart:
                h = h0
            w = 0 if self.share_weights else it
            e = self.edge_encoders[w].forward_gathered(h, (edge_index[0], edge_index[1]))
            for step in self.steps[w]:
                h, e = step(h, e, edge_index)
        return EvolvingGraphOutput(embedding=self.decode(h), node=h, graphs=graphs,
                                   graph_embeddings=graph_embeddings)
