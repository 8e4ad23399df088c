"""The hierarchical message-passing cell of HGNN (Liu et al. 2023, arXiv:2303.01640).

Two graphs share one cell: the hit graph (nodes ``h``, edges ``e``) and the super-graph of the
super-nodes that GMPool pooled (super-nodes ``hs``, super-edges ``es``), joined by the weighted
bipartite hit-to-super-node graph (the soft assignment). One cell updates, in order and each
residually:

1. super-nodes, from their incoming super-edges (weighted by the learned super-edge weights)
   and the bipartite messages of their hits (weighted by the soft assignment);
2. hits, from their incoming and outgoing edges and the bipartite messages of their
   super-nodes;
3. super-edges, from their two (new) super-nodes;
4. edges, from their two (new) hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from trackcore.nn.aggregation import aggregate, check_aggrs, sum_operator, sums_by_operator
from trackcore.nn.mlp import MLP


@dataclass(frozen=True)
class HierarchicalState:
    """Node, edge, super-node and super-edge states of a :class:`HierarchicalCell`.

    Shapes:
        node: (N, H); edge: (E, H); super_node: (S, H); super_edge: (Es, H).
    """

    node: torch.Tensor
    edge: torch.Tensor
    super_node: torch.Tensor
    super_edge: torch.Tensor


@dataclass(frozen=True)
class HierarchicalGraph:
    """The connectivity a :class:`HierarchicalCell` passes messages on.

    Args:
        edge_index: hit graph, ``[0]`` source, ``[1]`` target.
        super_edge_index: super-graph, ``[0]`` source, ``[1]`` target.
        super_edge_weight: learned weight of each super-edge (scales its message).
        bipartite_index: ``[0]`` hit, ``[1]`` super-node.
        bipartite_weight: soft assignment of each bipartite edge (scales its messages both ways).

    Shapes:
        edge_index: (2, E); super_edge_index: (2, Es); super_edge_weight: (Es,);
        bipartite_index: (2, B); bipartite_weight: (B,).
    """

    edge_index: torch.Tensor
    super_edge_index: torch.Tensor
    super_edge_weight: torch.Tensor
    bipartite_index: torch.Tensor
    bipartite_weight: torch.Tensor
    _sums: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict, init=False, repr=False,
                                                               compare=False)

    def __post_init__(self) -> None:
        for name in ("edge_index", "super_edge_index", "bipartite_index"):
            value = getattr(self, name)
            if value.dim() != 2 or value.size(0) != 2 or value.dtype != torch.int64:
                raise ValueError(f"Expected '{name}' to be an int64 tensor of shape (2, *) (got {value.dtype} "
                                 f"{tuple(value.shape)})")
        for name, index in (("super_edge_weight", self.super_edge_index), ("bipartite_weight", self.bipartite_index)):
            value = getattr(self, name)
            if value.shape != (index.size(1),):
                raise ValueError(f"Expected '{name}' to have shape ({index.size(1)},) (got {tuple(value.shape)})")

    def hit_sums(self, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`~trackcore.nn.aggregation.sum_operator` of the hit graph's targets and of its sources, built once
        for every cell that passes messages on this graph.

        Shapes:
            two ``(num_nodes, E)`` sparse CSR matrices.
        """
        if num_nodes not in self._sums:
            src, dst = self.edge_index
            self._sums[num_nodes] = (sum_operator(dst, num_nodes), sum_operator(src, num_nodes))
        return self._sums[num_nodes]


def weighted_sum(values: torch.Tensor, weight: torch.Tensor, index: torch.Tensor, num: int) -> torch.Tensor:
    """``out[k] = sum over rows r with index[r] == k of weight[r] * values[r]``.

    Shapes:
        values: (M, F); weight: (M,); index: (M,) int64 in [0, num) -> (num, F).
    """
    out = values.new_zeros(num, values.size(1))
    return out.index_add(0, index, values * weight.unsqueeze(1).to(values.dtype))


class HierarchicalCell(nn.Module):
    """One round of hierarchical message passing (module docstring), all updates residual.

    Args:
        hidden_dim: width ``H`` of every state.
        aggrs: reductions of hit-graph edge messages (see :func:`trackcore.nn.aggregate`).
        mlp_layers, activation: of each update MLP (each ends with LayerNorm and ``activation``).
        update_edges: run steps 3-4; the last cell of a model whose heads read only nodes and
            super-nodes skips them (their networks would get no gradient).

    Shapes:
        state: :class:`HierarchicalState` with widths ``H``; graph: :class:`HierarchicalGraph`
        -> a :class:`HierarchicalState` of the same shapes.
    """

    def __init__(
        self,
        *,
        hidden_dim: int = 64,
        aggrs: Sequence[str] = ("sum", "max"),
        mlp_layers: int = 2,
        activation: str = "silu",
        update_edges: bool = True,
    ) -> None:
        super().__init__()
        self.aggrs = check_aggrs(aggrs)
        self.hidden_dim, self.update_edges = hidden_dim, update_edges

        def mlp(in_dim: int) -> MLP:
            return MLP(in_dim=in_dim, out_dim=hidden_dim, hidden_dim=hidden_dim, n_layers=mlp_layers,
                       activation=activation, output_activation=activation, output_layer_norm=True)

        n_aggr = len(self.aggrs)
        self.super_node_network = mlp(3 * hidden_dim)
        self.node_network = mlp(hidden_dim * (2 + 2 * n_aggr))
        if update_edges:
            self.super_edge_network = mlp(3 * hidden_dim)
            self.edge_network = mlp(3 * hidden_dim)

    def forward(self, state: HierarchicalState, graph: HierarchicalGraph) -> HierarchicalState:
        h, e, hs, es = state.node, state.edge, state.super_node, state.super_edge
        for name, value in (("node", h), ("edge", e), ("super_node", hs), ("super_edge", es)):
            if value.dim() != 2 or value.size(1) != self.hidden_dim:
                raise ValueError(f"Expected the {name} state to have shape (*, {self.hidden_dim}) "
                                 f"(got {tuple(value.shape)})")
        src, dst = graph.edge_index
        s_src, s_dst = graph.super_edge_index
        hit, sup = graph.bipartite_index
        n, s = h.size(0), hs.size(0)
        if e.size(0) != src.numel() or es.size(0) != s_src.numel():
            raise ValueError(f"edge/super-edge states ({e.size(0)}, {es.size(0)}) do not match the graph's "
                             f"({src.numel()}, {s_src.numel()}) edges")

        # 1. super-nodes: weighted super-edge messages and the soft-assigned hits' states
        from_super_edges = weighted_sum(es, graph.super_edge_weight, s_dst, s)
        from_hits = weighted_sum(h.index_select(0, hit), graph.bipartite_weight, sup, s)
        hs = hs + self.super_node_network(torch.cat([hs, from_super_edges, from_hits], dim=1))
        # 2. hits: incoming and outgoing edges, and their super-nodes' new states
        from_super_nodes = weighted_sum(hs.index_select(0, sup), graph.bipartite_weight, hit, n)
        sums = graph.hit_sums(n) if sums_by_operator(self.aggrs, h.device) else (None, None)
        h = h + self.node_network(torch.cat([h, aggregate(e, dst, n, self.aggrs, sums=sums[0]),
                                             aggregate(e, src, n, self.aggrs, sums=sums[1]), from_super_nodes], dim=1))
        if not self.update_edges:
            return HierarchicalState(node=h, edge=e, super_node=hs, super_edge=es)
        # 3.-4. super-edges and edges from their ends' new states
        es = self.super_edge_network.forward_gathered(hs, (s_src, s_dst), es, residual=es)  # es + net([hs_s, hs_d, es])
        e = self.edge_network.forward_gathered(h, (src, dst), e, residual=e)
        return HierarchicalState(node=h, edge=e, super_node=hs, super_edge=es)
