"""GMPool: learned pooling of hits into super-nodes (Liu et al. 2023, arXiv:2303.01640, HierarchicalGNN).

The pooling is split PyG-style into *select* (which hits form a super-node: a Gaussian-mixture cut on
edge similarities, then connected components), *centres* (the normalised mean embedding of each
super-node) and *connect* (a kNN super-graph among centres and a soft bipartite hit-to-super-node
graph). Everything is plain torch and runs on CPU and GPU; only the similarities, centres and the two
learned BatchNorms carry gradients. The Gaussian-mixture cut itself is in :mod:`trackcore.nn.gmm`
(re-exported here).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from trackcore.neighbors import knn_graph
from trackcore.neighbors.backends import BACKENDS
from trackcore.neighbors.inputs import check_positive_int
from trackcore.nn.gmm import TwoGaussians, check_finite, fit_two_gaussians, gmm_cut

__all__ = [
    "GMPool",
    "PoolingOutput",
    "TwoGaussians",
    "connected_component_labels",
    "fit_two_gaussians",
    "gmm_cut",
]

_CLAMP = 1e-6  # |u_i . u_j| <= 1 - _CLAMP keeps arctanh finite (|s| <= ~7.25)


def connected_component_labels(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Connected components of the undirected graph ``edge_index`` over ``num_nodes`` nodes, in pure torch.

    Every node points to a smaller (or the same) node of its component; each round hooks the larger of
    the two roots of every edge onto the smaller one (``scatter_reduce`` ``"amin"``) and then jumps
    pointers until every node points at a root. The roots are the smallest members of their components.
    Labels are consecutive ``0 .. C-1`` ordered by the smallest member; isolated nodes are their own
    component. The direction of edges is ignored.

    Raises:
        ValueError: ``num_nodes`` not a non-negative int; ``edge_index`` not ``(2, E)`` int64 on one
            device, or with indices outside ``[0, num_nodes)``.

    Shapes:
        edge_index: ``(2, E)`` int64 -> ``(num_nodes,)`` int64, on the device of ``edge_index``.
    """
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, numbers.Integral) or num_nodes < 0:
        raise ValueError(f"Expected 'num_nodes' to be a non-negative int (got {num_nodes!r})")
    _check_edge_index(edge_index, int(num_nodes))
    parent = torch.arange(int(num_nodes), device=edge_index.device)
    src, dst = edge_index
    while True:
        ps, pd = parent[src], parent[dst]
        hooked = parent.scatter_reduce(0, torch.maximum(ps, pd), torch.minimum(ps, pd), "amin", include_self=True)
        while True:
            jumped = hooked[hooked]
            if torch.equal(jumped, hooked):
                break
            hooked = jumped
        if torch.equal(hooked, parent):
            break
        parent = hooked
    is_root = parent == torch.arange(parent.numel(), device=parent.device)
    return (is_root.cumsum(0) - 1)[parent]


@dataclass(frozen=True)
class PoolingOutput:
    """What :class:`GMPool` computed for one event.

    Args:
        centres: unit-norm super-node centres (differentiable in ``u``).
        hit_cluster: super-node of each hit (its component), ``-1`` for hits whose component was dropped.
        super_edge_index: symmetrised super-graph: both directions, no self loops, no duplicates, sorted.
        super_edge_weight: ``sigmoid(BatchNorm(c_a . c_b))`` divided by its mean.
        bipartite_index: ``[0]`` hit, ``[1]`` super-node; each hit's ``min(bipartite_k, S)`` nearest centres.
        bipartite_logit: ``BatchNorm(u_i . c_a)`` per bipartite edge.
        bipartite_weight: softmax of the logits over each hit's edges (sums to 1 per hit).
        edge_similarity: ``arctanh(u_i . u_j)`` of each input edge (differentiable).
        cut: the similarity cut used (``+inf`` when none could be fitted or carried over).
        fallback: whether the components of the uncut input graph were used.

    Shapes:
        centres: ``(S, D)``; hit_cluster: ``(N,)`` int64; super_edge_index: ``(2, E_s)`` int64;
        super_edge_weight: ``(E_s,)``; bipartite_index: ``(2, B)`` int64; bipartite_logit,
        bipartite_weight: ``(B,)``; edge_similarity: ``(E,)``; cut: ``()``.
    """

    centres: torch.Tensor
    hit_cluster: torch.Tensor
    super_edge_index: torch.Tensor
    super_edge_weight: torch.Tensor
    bipartite_index: torch.Tensor
    bipartite_logit: torch.Tensor
    bipartite_weight: torch.Tensor
    edge_similarity: torch.Tensor
    cut: torch.Tensor
    fallback: bool

    def __post_init__(self) -> None:
        if self.centres.dim() != 2:
            raise ValueError(f"Expected 'centres' to have shape (S, D) (got {tuple(self.centres.shape)})")
        if self.hit_cluster.dim() != 1 or self.hit_cluster.dtype != torch.int64:
            raise ValueError(
                f"Expected 'hit_cluster' to be (N,) int64 (got {tuple(self.hit_cluster.shape)}, "
                f"{self.hit_cluster.dtype})"
            )
        for index, values in (
            ("super_edge_index", ("super_edge_weight",)),
            ("bipartite_index", ("bipartite_logit", "bipartite_weight")),
        ):
            ei = getattr(self, index)
            if ei.dim() != 2 or ei.size(0) != 2 or ei.dtype != torch.int64:
                raise ValueError(f"Expected '{index}' to be (2, E) int64 (got {tuple(ei.shape)}, {ei.dtype})")
            for name in values:
                if getattr(self, name).shape != (ei.size(1),):
                    raise ValueError(
                        f"Expected '{name}' to have shape ({ei.size(1)},), one entry per edge of "
                        f"'{index}' (got {tuple(getattr(self, name).shape)})"
                    )
        if self.cut.dim() != 0:
            raise ValueError(f"Expected 'cut' to be zero-dimensional (got shape {tuple(self.cut.shape)})")

    @property
    def num_super_nodes(self) -> int:
        """Number of super-nodes ``S``."""
        return self.centres.size(0)


class GMPool(nn.Module):
    r"""Gaussian-mixture pooling of hits into super-nodes, from HierarchicalGNN (Liu et al. 2023,
    arXiv:2303.01640).

    1. *Select*: each input edge gets the similarity :math:`s_{ij} = \operatorname{artanh}(u_i \cdot u_j)`
       (clamped to :math:`\pm(1 - 10^{-6})` inside). A two-Gaussian fit to the event's :math:`s` (self
       loops left out) gives the cut :func:`gmm_cut` where the high component's posterior odds are
       :math:`e^g`. Training uses the event's cut and keeps an exponential moving average of it in the
       buffer ``running_cut`` (NaN until the first training step); evaluation uses ``running_cut`` when
       set, else the event's own cut. Edges with :math:`s >` cut are kept; their connected components
       with at least ``min_cluster_size`` hits become super-nodes, the other hits get cluster ``-1``.
       With fewer than ``min_clusters`` super-nodes the components of the uncut input graph are used
       (``fallback``), and if none of those is large enough, all hits form one super-node.
    2. *Centres*: :math:`c_a = \mathrm{normalize}(\sum_{i \in a} u_i)`.
    3. *Connect*: a kNN graph among centres (``min(super_k, S - 1)`` neighbours), symmetrised, weighted by
       :math:`\sigma(\mathrm{BN}(c_a \cdot c_b))` divided by its mean; and each hit linked to its
       ``min(bipartite_k, S)`` nearest centres with weight :math:`\mathrm{softmax}_a \mathrm{BN}'(u_i \cdot c_a)`
       over the hit's edges (a soft assignment: hits of dropped components are assigned too).

    The BatchNorms see one value per edge; with fewer than 2 edges in training mode they normalise with
    their running statistics instead of batch statistics (and do not update them).

    Args:
        granularity: log posterior odds ``g`` at the cut; larger is stricter (default ``5.0``).
        momentum: weight of the old value in the moving average of the cut, in ``[0, 1)`` (default ``0.95``).
        min_cluster_size: smallest component kept as a super-node (default ``3``).
        min_clusters: fewest super-nodes accepted before falling back to the uncut graph (default ``3``).
        super_k: neighbours of each centre in the super-graph (default ``10``).
        bipartite_k: super-nodes each hit is linked to (default ``5``).
        backend: :func:`trackcore.neighbors.knn_graph` backend (default ``"auto"``).

    Shapes:
        u: ``(N, D)`` unit-norm embedding; edge_index: ``(2, E)`` int64 -> :class:`PoolingOutput`.
    """

    running_cut: torch.Tensor

    def __init__(
        self,
        *,
        granularity: float = 5.0,
        momentum: float = 0.95,
        min_cluster_size: int = 3,
        min_clusters: int = 3,
        super_k: int = 10,
        bipartite_k: int = 5,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        self.granularity = check_finite("granularity", granularity)
        self.momentum = check_finite("momentum", momentum)
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"Expected 'momentum' in [0, 1) (got {momentum!r})")
        self.min_cluster_size = check_positive_int("min_cluster_size", min_cluster_size)
        self.min_clusters = check_positive_int("min_clusters", min_clusters)
        self.super_k = check_positive_int("super_k", super_k)
        self.bipartite_k = check_positive_int("bipartite_k", bipartite_k)
        if backend not in ("auto", *BACKENDS):
            raise ValueError(f"Unknown neighbour-search backend {backend!r} (expected one of {['auto', *BACKENDS]})")
        self.backend = backend
        self.super_norm = nn.BatchNorm1d(1)
        self.bipartite_norm = nn.BatchNorm1d(1)
        self.register_buffer("running_cut", torch.tensor(float("nan")))

    def extra_repr(self) -> str:
        return (
            f"granularity={self.granularity}, momentum={self.momentum}, min_cluster_size={self.min_cluster_size}, "
            f"min_clusters={self.min_clusters}, super_k={self.super_k}, bipartite_k={self.bipartite_k}, "
            f"backend={self.backend!r}"
        )

    def forward(self, u: torch.Tensor, edge_index: torch.Tensor) -> PoolingOutput:
        _check_embedding(u)
        _check_edge_index(edge_index, u.size(0), device=u.device)
        s_e = self.similarity(u, edge_index)
        cut = self.select_cut(s_e.detach(), edge_index)
        hit_cluster, n_super, fallback = self.select(s_e.detach(), edge_index, cut, u.size(0))
        centres_k = self.centres(u, hit_cluster, n_super)
        super_edge_index, super_edge_weight = self.connect(centres_k)
        bipartite_index, bipartite_logit, bipartite_weight = self.assign(u, centres_k)
        return PoolingOutput(
            centres=centres_k,
            hit_cluster=hit_cluster,
            super_edge_index=super_edge_index,
            super_edge_weight=super_edge_weight,
            bipartite_index=bipartite_index,
            bipartite_logit=bipartite_logit,
            bipartite_weight=bipartite_weight,
            edge_similarity=s_e,
            cut=cut,
            fallback=fallback,
        )

    @staticmethod
    def similarity(u: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """``arctanh`` of the clamped dot product of each edge's end embeddings (differentiable).

        Shapes:
            u: ``(N, D)``; edge_index: ``(2, E)`` -> ``(E,)``.
        """
        dot_e = (u.index_select(0, edge_index[0]) * u.index_select(0, edge_index[1])).sum(dim=-1)
        return torch.atanh(dot_e.clamp(-1 + _CLAMP, 1 - _CLAMP))

    def select_cut(self, s_e: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """The cut for this event (and, in training, the update of ``running_cut``).

        The mixture is fitted to the similarities of edges that are not self loops. With no such edge no
        cut is fitted: training leaves ``running_cut`` alone and uses it (``+inf`` while unset).

        Shapes:
            s_e: ``(E,)``; edge_index: ``(2, E)`` -> ``()`` in the dtype of ``s_e``.
        """
        s_fit = s_e[edge_index[0] != edge_index[1]]
        running_set = not bool(torch.isnan(self.running_cut))
        running = self.running_cut.to(s_e.dtype, copy=True)  # never hand out the buffer itself
        if not self.training and running_set:
            return running
        if s_fit.numel() == 0:
            return running if running_set else s_e.new_tensor(math.inf)
        cut = gmm_cut(s_fit, self.granularity)
        if self.training:
            with torch.no_grad():
                new = cut.to(self.running_cut.dtype)
                if running_set:
                    new = self.momentum * self.running_cut + (1 - self.momentum) * new
                self.running_cut.copy_(new)
        return cut

    def select(
        self, s_e: torch.Tensor, edge_index: torch.Tensor, cut: torch.Tensor, num_nodes: int
    ) -> tuple[torch.Tensor, int, bool]:
        """Super-node of each hit (``-1``: dropped), the number of super-nodes and whether the fallback was used.

        Shapes:
            s_e: ``(E,)``; edge_index: ``(2, E)``; cut: ``()`` -> ``(N,)`` int64, int, bool.
        """
        cluster, n_kept = self._kept_components(edge_index[:, s_e > cut], num_nodes)
        if n_kept >= self.min_clusters:
            return cluster, n_kept, False
        cluster, n_kept = self._kept_components(edge_index, num_nodes)
        if n_kept == 0:
            return torch.zeros_like(cluster), 1, True
        return cluster, n_kept, True

    def _kept_components(self, edge_index: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, int]:
        label = connected_component_labels(edge_index, num_nodes)
        size = torch.bincount(label, minlength=1)
        keep = size >= self.min_cluster_size
        new_id = keep.cumsum(0) - 1
        return torch.where(keep[label], new_id[label], torch.full_like(label, -1)), int(keep.sum())

    @staticmethod
    def centres(u: torch.Tensor, hit_cluster: torch.Tensor, num_super: int) -> torch.Tensor:
        """Unit-norm mean embedding of each super-node's hits (differentiable in ``u``).

        Shapes:
            u: ``(N, D)``; hit_cluster: ``(N,)`` in ``[-1, S)`` -> ``(S, D)``.
        """
        member = hit_cluster >= 0
        total = u.new_zeros(num_super, u.size(1)).index_add(0, hit_cluster[member], u[member])
        return F.normalize(total, dim=1)

    def connect(self, centres_k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The symmetrised kNN super-graph among centres and its weights (mean 1).

        Shapes:
            centres_k: ``(S, D)`` -> ``(2, E_s)`` int64 sorted by (source, target), ``(E_s,)``.
        """
        n_super = centres_k.size(0)
        if n_super < 2:
            return torch.empty(2, 0, dtype=torch.long, device=centres_k.device), centres_k.new_empty(0)
        graph = knn_graph(centres_k.detach(), min(self.super_k, n_super - 1), loop=False, backend=self.backend)
        both = torch.cat([graph.edge_index, graph.edge_index.flip(0)], dim=1)
        key = torch.unique(both[0] * n_super + both[1])
        index = torch.stack([key // n_super, key % n_super])
        dot_e = (centres_k.index_select(0, index[0]) * centres_k.index_select(0, index[1])).sum(dim=-1)
        weight_e = torch.sigmoid(_batch_norm(self.super_norm, dot_e))
        return index, weight_e / weight_e.mean()

    def assign(self, u: torch.Tensor, centres_k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The bipartite hit-to-super-node graph: each hit's nearest centres, logits and per-hit softmax weights.

        Shapes:
            u: ``(N, D)``; centres_k: ``(S, D)`` -> ``(2, B)`` int64 (``[0]`` hit, ``[1]`` super-node, grouped by
            hit, nearest first), ``(B,)``, ``(B,)`` with ``B = N min(bipartite_k, S)``.
        """
        k = min(self.bipartite_k, centres_k.size(0))
        graph = knn_graph(centres_k.detach(), k, query=u.detach(), backend=self.backend)
        index = graph.edge_index.flip(0)
        dot_b = (u.index_select(0, index[0]) * centres_k.index_select(0, index[1])).sum(dim=-1)
        logit_b = _batch_norm(self.bipartite_norm, dot_b)
        return index, logit_b, _scatter_softmax(logit_b, index[0], u.size(0))


def _batch_norm(norm: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """``norm`` applied to a vector of scalars; with < 2 values in training, running statistics are used."""
    if norm.training and x.numel() < 2:
        out = F.batch_norm(
            x.unsqueeze(1), norm.running_mean, norm.running_var, norm.weight, norm.bias, training=False, eps=norm.eps
        )
    else:
        out = norm(x.unsqueeze(1))
    return out.squeeze(1)


def _scatter_softmax(x: torch.Tensor, index: torch.Tensor, num_groups: int) -> torch.Tensor:
    """Softmax of ``x`` within each group of equal ``index`` (shifted by the group maximum for stability)."""
    group_max = x.new_full((num_groups,), -math.inf).scatter_reduce(0, index, x.detach(), "amax", include_self=True)
    e = torch.exp(x - group_max.index_select(0, index))
    return e / e.new_zeros(num_groups).index_add(0, index, e).index_select(0, index)


def _check_embedding(u: torch.Tensor) -> None:
    if not isinstance(u, torch.Tensor) or u.dim() != 2:
        raise ValueError(f"Expected 'u' to have shape (N, D) (got {tuple(getattr(u, 'shape', ()))})")
    if not u.is_floating_point():
        raise ValueError(f"Expected 'u' to be a floating-point tensor (got {u.dtype})")
    if u.size(0) == 0 or u.size(1) == 0:
        raise ValueError(f"Expected an event with at least one hit and one embedding dimension (got {tuple(u.shape)})")
    if not bool(torch.isfinite(u).all()):
        raise ValueError(f"'u' contains NaN or inf ({int((~torch.isfinite(u)).any(dim=1).sum())} of {u.size(0)} hits)")


def _check_edge_index(edge_index: torch.Tensor, num_nodes: int, device: torch.device | None = None) -> None:
    if not isinstance(edge_index, torch.Tensor) or edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"Expected 'edge_index' to have shape (2, E) (got {tuple(getattr(edge_index, 'shape', ()))})")
    if edge_index.dtype != torch.int64:
        raise ValueError(f"Expected 'edge_index' to be of type torch.int64 (got {edge_index.dtype})")
    if device is not None and edge_index.device != device:
        raise ValueError(f"Expected 'edge_index' on the device of 'u' ({device}, got {edge_index.device})")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise ValueError(
            f"Expected 'edge_index' values in [0, {num_nodes}) (got values in "
            f"[{int(edge_index.min())}, {int(edge_index.max())}])"
        )
