"""The hierarchical GNN (Liu et al. 2023, arXiv:2303.01640): hits pooled into learned super-nodes.

1. An interaction network on the input graph gives hit and edge states and an L2-normalised
   intermediate embedding ``u``.
2. :class:`trackcore.nn.GMPool` pools hits into super-nodes (track candidates) from ``u``: the
   edges above the per-event Gaussian-mixture cut, connected components, centres, a kNN
   super-graph and the soft bipartite hit-to-super-node assignment.
3. Hierarchical cells (:class:`trackcore.nn.HierarchicalCell`) pass messages on hits,
   super-nodes, super-edges and edges.
4. A head: the ``"bipartite"`` classifier scores every hit-to-super-node edge (the headline
   model; a hit may join several tracks), or the ``"embedding"`` variant outputs a final
   per-hit embedding that HDBSCAN clusters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from trackcore.nn import (
    EDGE_FEATURE_NAMES,
    MLP,
    GMPool,
    HierarchicalCell,
    HierarchicalGraph,
    HierarchicalState,
    InteractionNetwork,
    PoolingOutput,
    geometric_edge_features,
)
from trackcore.nn.hierarchical import weighted_sum

VARIANTS = ("bipartite", "embedding")


@dataclass(frozen=True)
class HGNNOutput:
    """What a :class:`HierarchicalGNN` returns for one event.

    Shapes:
        embedding: (N, emb_dim) unit-norm intermediate embedding (GMPool's input);
        pooling: the super-nodes and graphs GMPool built (``S`` super-nodes, ``B`` bipartite
        edges); bipartite_logit: (B,) for the ``"bipartite"`` variant, else None;
        coords: (N, coords_dim) unit-norm final embedding for the ``"embedding"`` variant, else None.
    """

    embedding: torch.Tensor
    pooling: PoolingOutput
    bipartite_logit: torch.Tensor | None
    coords: torch.Tensor | None


class HierarchicalGNN(nn.Module):
    """HGNN with GMPool super-nodes (module docstring).

    Args:
        node_in: hit features.
        hidden_dim: width of every state.
        emb_dim: size of the intermediate embedding (8 in the paper).
        n_encoder_iterations: interaction-network iterations before pooling.
        n_cells: hierarchical message-passing cells after pooling.
        aggrs, mlp_layers, activation: of the interaction network and the cells.
        edge_features: encode each input edge from its geometry.
        variant: ``"bipartite"`` (classifier on hit-to-super-node edges) or ``"embedding"``.
        coords_dim: size of the final embedding (``"embedding"`` variant).
        granularity, momentum, min_cluster_size, min_clusters, super_k, bipartite_k, backend:
            of :class:`trackcore.nn.GMPool`.

    Shapes:
        x: (N, node_in); edge_index: (2, E) -> :class:`HGNNOutput`.
    """

    def __init__(
        self,
        *,
        node_in: int = 4,
        hidden_dim: int = 64,
        emb_dim: int = 8,
        n_encoder_iterations: int = 4,
        n_cells: int = 4,
        aggrs: Sequence[str] = ("sum", "max"),
        mlp_layers: int = 2,
        activation: str = "silu",
        edge_features: bool = True,
        variant: Literal["bipartite", "embedding"] = "bipartite",
        coords_dim: int = 12,
        granularity: float = 5.0,
        momentum: float = 0.95,
        min_cluster_size: int = 3,
        min_clusters: int = 3,
        super_k: int = 10,
        bipartite_k: int = 5,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS} (got {variant!r})")
        if isinstance(n_cells, bool) or not isinstance(n_cells, int) or n_cells < 1:
            raise ValueError(f"n_cells must be a positive int (got {n_cells!r})")
        self.variant, self.edge_features = variant, edge_features
        self.encoder = InteractionNetwork(
            node_in=node_in, edge_in=len(EDGE_FEATURE_NAMES) if edge_features else 0, hidden_dim=hidden_dim,
            n_iterations=n_encoder_iterations, aggrs=tuple(aggrs), mlp_layers=mlp_layers, activation=activation,
        )
        self.embedding_head = MLP(in_dim=hidden_dim, out_dim=emb_dim, hidden_dim=hidden_dim, n_layers=2,
                                  activation=activation)
        self.pool = GMPool(granularity=granularity, momentum=momentum, min_cluster_size=min_cluster_size,
                           min_clusters=min_clusters, super_k=super_k, bipartite_k=bipartite_k, backend=backend)

        def state_mlp(in_dim: int) -> MLP:
            return MLP(in_dim=in_dim, out_dim=hidden_dim, hidden_dim=hidden_dim, n_layers=mlp_layers,
                       activation=activation, output_activation=activation, output_layer_norm=True)

        self.super_node_encoder = state_mlp(hidden_dim + emb_dim)
        self.super_edge_encoder = state_mlp(2 * hidden_dim)
        self.cells = nn.ModuleList(
            HierarchicalCell(hidden_dim=hidden_dim, aggrs=aggrs, mlp_layers=mlp_layers, activation=activation,
                             update_edges=i < n_cells - 1)
            for i in range(n_cells)
        )
        if variant == "bipartite":
            # [h_i, S_a, h_i * S_a, GMPool's hit-centre logit]: the product and the logit let the
            # MLP compare a hit with a super-node directly (with [h_i, S_a] alone, a tiny event
            # learned, but on the small preset positive and negative scores stayed 0.39 vs 0.14
            # after 8 epochs)
            self.head = MLP(in_dim=3 * hidden_dim + 1, out_dim=1, hidden_dim=hidden_dim, n_layers=3,
                            activation=activation)
        else:
            self.head = MLP(in_dim=2 * hidden_dim, out_dim=coords_dim, hidden_dim=hidden_dim, n_layers=3,
                            activation=activation)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> HGNNOutput:
        edge_attr = geometric_edge_features(x, edge_index) if self.edge_features else None
        enc = self.encoder(x, edge_index, edge_attr)
        h, e = enc.node, enc.edge
        u = F.normalize(self.embedding_head(h), dim=1)
        pool = self.pool(u, edge_index)
        hit, sup = pool.bipartite_index
        w = pool.bipartite_weight
        s = pool.num_super_nodes
        # super-node state: the soft-assigned hits' mean state, with the centre
        norm = weighted_sum(torch.ones_like(h[:, :1])[hit], w, sup, s).clamp_min(1e-12)
        hs = self.super_node_encoder(torch.cat([weighted_sum(h[hit], w, sup, s) / norm, pool.centres], dim=1))
        s_src, s_dst = pool.super_edge_index
        es = self.super_edge_encoder.forward_gathered(hs, (s_src, s_dst))
        graph = HierarchicalGraph(edge_index=edge_index, super_edge_index=pool.super_edge_index,
                                  super_edge_weight=pool.super_edge_weight, bipartite_index=pool.bipartite_index,
                                  bipartite_weight=w)
        state = HierarchicalState(node=h, edge=e, super_node=hs, super_edge=es)
        for cell in self.cells:
            state = cell(state, graph)
        if self.variant == "bipartite":
            h_b, s_b = state.node[hit], state.super_node[sup]
            logit = self.head(torch.cat([h_b, s_b, h_b * s_b, pool.bipartite_logit.unsqueeze(1)], dim=1)).squeeze(-1)
            return HGNNOutput(embedding=u, pooling=pool, bipartite_logit=logit, coords=None)
        from_super = weighted_sum(state.super_node[sup], w, hit, h.size(0))
        coords = F.normalize(self.head(torch.cat([state.node, from_super], dim=1)), dim=1)
        return HGNNOutput(embedding=u, pooling=pool, bipartite_logit=None, coords=coords)
