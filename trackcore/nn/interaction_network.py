"""The residual interaction network of Exa.TrkX / acorn, shared by edge classification, OC and HGNN."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint as checkpoint_fn

from trackcore.nn.aggregation import aggregate, check_aggrs, sum_operator, sums_by_operator
from trackcore.nn.mlp import MLP


@dataclass(frozen=True)
class InteractionNetworkOutput:
    """Final node and edge states of an :class:`InteractionNetwork`.

    Shapes:
        node: ``(N, H)``; edge: ``(E, H)``, on one device.
    """

    node: torch.Tensor
    edge: torch.Tensor

    def __post_init__(self) -> None:
        for name in ("node", "edge"):
            value = getattr(self, name)
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"Expected '{name}' to be a torch tensor (got {type(value).__name__})")
            if value.dim() != 2:
                raise ValueError(f"Expected '{name}' to be two-dimensional (got {value.dim()} dimensions)")
        if self.node.device != self.edge.device:
            raise ValueError(
                f"Expected 'node' and 'edge' on one device (got {self.node.device} and {self.edge.device})"
            )


class InteractionNetwork(nn.Module):
    r"""The interaction network of Battaglia et al., "Interaction Networks for Learning about Objects,
    Relations and Physics" (arXiv:1612.00222), in the residual, multi-aggregation form of Exa.TrkX
    (Ju et al., arXiv:2103.06995) and acorn's ``InteractionGNN``.

    Encoders map hits and edges to ``hidden_dim`` states :math:`h_i^{(0)} = \phi_x(x_i)` and
    :math:`e_{ij}^{(0)} = \phi_e(a_{ij})`, where :math:`a_{ij}` is ``edge_attr`` or, with
    ``edge_in=0``, :math:`[h_i^{(0)}, h_j^{(0)}]`. Then for :math:`t = 1, \dots,` ``n_iterations``, on
    each edge :math:`i \to j` (``edge_index[0] = i`` the source, ``edge_index[1] = j`` the target):

    .. math::
        \Delta e_{ij} &= \phi_E^{(t)}\big([h_i, h_j, e_{ij}]\big) \\
        \Delta h_j &= \phi_V^{(t)}\big([h_j,\ \square_{i \to j}\, \Delta e_{ij},\
            \square_{j \to k}\, \Delta e_{jk}]\big) \\
        e_{ij} &\leftarrow e_{ij} + \Delta e_{ij}, \qquad h_j \leftarrow h_j + \Delta h_j

    where :math:`\square` concatenates the ``aggrs`` reductions (:func:`~trackcore.nn.aggregate`) over
    a node's incoming edges and, separately, its outgoing edges (the second term only when
    ``bidirectional``). Without ``residual`` the states are replaced instead of incremented. Every
    MLP ends with LayerNorm (when ``layer_norm``) and ``activation``, like a hidden layer.

    Args:
        node_in: input node features ``F_x``.
        edge_in: input edge features ``F_e``; ``0`` builds them from the node encodings
            (default ``0``).
        hidden_dim: node and edge state width ``H`` (default ``128``).
        n_iterations: message-passing iterations, at least 1 (default ``8``).
        aggrs: node-side reductions of edge messages, from ``sum``, ``mean``, ``max``, ``min``, ``std``
            (default ``("sum", "max")``).
        mlp_layers: linear layers in each encoder and update MLP (default ``2``).
        activation: activation name, see :class:`~trackcore.nn.MLP` (default ``"silu"``).
        layer_norm: LayerNorm in every MLP (default ``True``).
        dropout: dropout in the hidden layers of every MLP (default ``0.0``).
        residual: add updates to the states rather than replace them (default ``True``).
        share_weights: one node and one edge network used in every iteration, instead of one pair
            per iteration (default ``False``).
        bidirectional: aggregate incoming and outgoing messages separately; otherwise incoming only,
            and information flows along the edge direction (default ``True``).
        checkpoint: recompute each iteration in the backward pass (``torch.utils.checkpoint``) to
            save activation memory at the cost of a second forward (default ``False``).

    Shapes:
        x: ``(N, F_x)``; edge_index: ``(2, E)`` int64; edge_attr: ``(E, F_e)`` or ``None``
        -> :class:`InteractionNetworkOutput` with node ``(N, H)`` and edge ``(E, H)``.
    """

    def __init__(
        self,
        *,
        node_in: int,
        edge_in: int = 0,
        hidden_dim: int = 128,
        n_iterations: int = 8,
        aggrs: Sequence[str] = ("sum", "max"),
        mlp_layers: int = 2,
        activation: str = "silu",
        layer_norm: bool = True,
        dropout: float = 0.0,
        residual: bool = True,
        share_weights: bool = False,
        bidirectional: bool = True,
        checkpoint: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(n_iterations, bool) or not isinstance(n_iterations, int) or n_iterations < 1:
            raise ValueError(f"Expected 'n_iterations' to be a positive int (got {n_iterations!r})")
        if isinstance(edge_in, bool) or not isinstance(edge_in, int) or edge_in < 0:
            raise ValueError(f"Expected 'edge_in' to be a non-negative int, 0 for no edge features (got {edge_in!r})")
        self.node_in, self.edge_in, self.hidden_dim = node_in, edge_in, hidden_dim
        self.n_iterations = n_iterations
        self.aggrs = check_aggrs(aggrs)
        self.residual, self.bidirectional, self.checkpoint = residual, bidirectional, checkpoint

        def mlp(in_dim: int) -> MLP:
            return MLP(
                in_dim=in_dim,
                out_dim=hidden_dim,
                hidden_dim=hidden_dim,
                n_layers=mlp_layers,
                activation=activation,
                layer_norm=layer_norm,
                dropout=dropout,
                output_activation=activation,
                output_layer_norm=layer_norm,
            )

        self.node_encoder = mlp(node_in)
        self.edge_encoder = mlp(edge_in or 2 * hidden_dim)
        n_directions = 2 if bidirectional else 1
        n_networks = 1 if share_weights else n_iterations
        self.edge_networks = nn.ModuleList(mlp(3 * hidden_dim) for _ in range(n_networks))
        self.node_networks = nn.ModuleList(
            mlp(hidden_dim * (1 + n_directions * len(self.aggrs))) for _ in range(n_networks)
        )

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None
    ) -> InteractionNetworkOutput:
        self._check_inputs(x, edge_index, edge_attr)
        src, dst = edge_index[0], edge_index[1]
        h = self.node_encoder(x)
        e = self.edge_encoder.forward_gathered(h, (src, dst)) if edge_attr is None else self.edge_encoder(edge_attr)
        # inference on the CPU: each direction's sums by one sparse matrix, built once for every iteration
        sums = (None, None)
        if sums_by_operator(self.aggrs, x.device):
            sums = (sum_operator(dst, h.size(0)), sum_operator(src, h.size(0)) if self.bidirectional else None)
        for t in range(self.n_iterations):
            if self.checkpoint and torch.is_grad_enabled():
                h, e = checkpoint_fn(self._iteration, t, h, e, src, dst, use_reentrant=False)
            else:
                h, e = self._iteration(t, h, e, src, dst, sums)
        return InteractionNetworkOutput(node=h, edge=e)

    def _iteration(
        self, t: int, h: torch.Tensor, e: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
        sums: tuple[torch.Tensor | None, torch.Tensor | None] = (None, None),
    ) -> tuple[torch.Tensor, torch.Tensor]:
        k = 0 if len(self.edge_networks) == 1 else t
        # = edge_networks[k](cat([h[src], h[dst], e])), without the (E, 3H) concatenation
        delta_e = self.edge_networks[k].forward_gathered(h, (src, dst), e)
        node_inputs = [h, aggregate(delta_e, dst, h.size(0), self.aggrs, sums=sums[0])]
        if self.bidirectional:
            node_inputs.append(aggregate(delta_e, src, h.size(0), self.aggrs, sums=sums[1]))
        delta_h = self.node_networks[k](torch.cat(node_inputs, dim=1))
        if self.residual:
            return h + delta_h, e + delta_e
        return delta_h, delta_e

    def _check_inputs(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor | None) -> None:
        if x.dim() != 2 or x.size(1) != self.node_in:
            raise ValueError(f"Expected 'x' to have shape (N, {self.node_in}) (got {tuple(x.shape)})")
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"Expected 'edge_index' to have shape (2, E) (got {tuple(edge_index.shape)})")
        if edge_index.dtype != torch.int64:
            raise ValueError(f"Expected 'edge_index' to be of type torch.int64 (got {edge_index.dtype})")
        n_edges = edge_index.size(1)
        if self.edge_in == 0:
            if edge_attr is not None:
                raise ValueError(
                    "Got 'edge_attr', but the network was built with edge_in=0 (edge features from the node "
                    "encodings); set edge_in to the number of edge features to use them"
                )
        elif edge_attr is None:
            raise ValueError(f"Expected 'edge_attr' of shape (E, {self.edge_in}) since edge_in={self.edge_in}")
        elif edge_attr.dim() != 2 or edge_attr.size(0) != n_edges or edge_attr.size(1) != self.edge_in:
            raise ValueError(
                f"Expected 'edge_attr' to have shape ({n_edges}, {self.edge_in}) (got {tuple(edge_attr.shape)})"
            )
