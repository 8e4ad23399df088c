"""One attention message-passing step, EggNet's (Calafiura et al. 2024) update of node and edge states."""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.utils import softmax

from trackcore.nn.mlp import MLP, inference_chunks


class GraphAttentionStep(nn.Module):
    """An edge network, attention over each node's incoming edges, and a node network; residual.

    For every edge ``(s -> t)`` the edge network reads ``[h_s, h_t, e]`` and updates the edge
    state, ``e' = e + edge_mlp([h_s, h_t, e])``; a linear layer of ``e'`` gives the edge's
    attention logit, normalised by a softmax over the incoming edges of ``t``. The message of
    ``t`` is the attention-weighted sum of its incoming ``e'``, and ``h_t' = h_t + node_mlp([h_t, m_t])``.
    A node without incoming edges gets a zero message.

    Args:
        hidden_dim: size of node and edge states.
        mlp_layers, activation: the edge and node MLPs (:class:`trackcore.nn.MLP`, hidden-state
            output: LayerNorm and activation on the output layer too).
        edge_chunk_size: edges through the edge MLP at a time when gradients are off; None: sized
            to the CPU cache (:func:`trackcore.nn.mlp.inference_chunks`).

    Shapes:
        h: (N, hidden_dim); e: (E, hidden_dim); edge_index: (2, E), ``[0]`` source, ``[1]`` target
        -> (h', e') of the same shapes.
    """

    def __init__(
        self,
        *,
        hidden_dim: int = 128,
        mlp_layers: int = 2,
        activation: str = "silu",
        edge_chunk_size: int | None = None,
    ) -> None:
        super().__init__()
        hidden = dict(hidden_dim=hidden_dim, n_layers=mlp_layers, activation=activation,
                      output_activation=activation, output_layer_norm=True)
        self.edge_mlp = MLP(in_dim=3 * hidden_dim, out_dim=hidden_dim, **hidden)
        self.attention = nn.Linear(hidden_dim, 1)
        self.node_mlp = MLP(in_dim=2 * hidden_dim, out_dim=hidden_dim, **hidden)
        if edge_chunk_size is not None and edge_chunk_size < 1:
            raise ValueError(f"edge_chunk_size must be >= 1 (got {edge_chunk_size})")
        self.edge_chunk_size = edge_chunk_size

    def _edge_update(self, h: torch.Tensor, e: torch.Tensor, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
        # = e + edge_mlp(cat([h[src], h[dst], e])), in cache-sized chunks without gradients
        return self.edge_mlp.forward_gathered(h, (src, dst), e, residual=e, chunk_size=self.edge_chunk_size)

    def forward(
        self, h: torch.Tensor, e: torch.Tensor, edge_index: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        src, dst = edge_index[0], edge_index[1]
        e = self._edge_update(h, e, src, dst)
        alpha = softmax(self.attention(e).squeeze(-1), dst, num_nodes=h.size(0))
        parts = inference_chunks(len(e), e.size(1), e.device, self.edge_chunk_size)  # as the edge update
        if len(parts) == 1:
            message = h.new_zeros(h.shape).index_add(0, dst, alpha.unsqueeze(-1) * e)
        else:
            message = h.new_zeros(h.shape)
            for part in parts:
                message.index_add_(0, dst[part], alpha[part].unsqueeze(-1) * e[part])
        return h + self.node_mlp(torch.cat([h, message], dim=1)), e
