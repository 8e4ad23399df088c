"""Stage 1 of the Exa.TrkX pipeline: metric learning for graph construction.

An MLP maps each hit's features to an embedding where hits of one particle lie close
together (Ju et al., arXiv:2103.06995; acorn ``MetricLearning``). Trained with a hinge loss
on true pairs (all pairs of hits of one particle), random pairs and hard negatives found by
a radius search in the current embedding. At inference the graph is the radius graph of the
embedding (with a neighbour cap), built by :mod:`trackcore.neighbors`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.losses import hinge_embedding_loss, merge_pairs, pair_labels, radius_pairs, random_pairs, true_pairs
from trackcore.metrics import EdgeMetrics, edge_metrics
from trackcore.neighbors import radius_graph
from trackcore.nn import MLP
from trackcore.train import LossOutput, TrackingModule


class EmbeddingNet(nn.Module):
    """Hit features to a (unit-norm) embedding.

    Args:
        in_dim: number of hit features.
        emb_dim: embedding size (8-12 in Exa.TrkX).
        hidden_dim, n_layers, activation, layer_norm: the MLP.
        normalize: project the embedding onto the unit sphere.

    Shapes:
        x: (N, in_dim) -> (N, emb_dim).
    """

    def __init__(
        self,
        *,
        in_dim: int = 4,
        emb_dim: int = 12,
        hidden_dim: int = 256,
        n_layers: int = 4,
        activation: str = "tanh",
        layer_norm: bool = True,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        self.mlp = MLP(
            in_dim=in_dim, out_dim=emb_dim, hidden_dim=hidden_dim, n_layers=n_layers,
            activation=activation, layer_norm=layer_norm,
        )
        self.normalize = normalize

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.mlp(x)
        return F.normalize(out, dim=-1) if self.normalize else out


class MetricLearning(TrackingModule):
    """Task module of the metric-learning stage.

    Args:
        model: an :class:`EmbeddingNet` (any module mapping ``x`` to an embedding).
        optimizer, scheduler, min_pt, min_hits: see :class:`~trackcore.train.TrackingModule`.
        margin: hinge margin; negatives closer than it are pushed out.
        r_train: radius of the hard-negative search during training.
        knn_train: neighbour cap of that search.
        n_random: random pairs per event.
        positive_weight: weight of the positive (true-pair) term relative to the negatives.
        r_infer: radius of the inference graph.
        knn_infer: neighbour cap of the inference graph.
        target_min_pt: true pairs of particles below this pT are not pulled together (0: all).
        max_true_pairs: at most this many true pairs of each particle per step, drawn at random
            (None: all ``c (c - 1) / 2``): a soft particle curling through the layers with dozens of
            hits would otherwise outweigh a whole event of pT > 1 GeV tracks in the positive term.
        one_edge_per_pair: the inference graph holds each pair of hits once, from the hit nearer the beam
            line (``x[:, 0]``, the radius; ties: the smaller index) outward, instead of once from each end
            when each is among the other's neighbours (about 1.7 edges per pair at ``knn_infer`` 10-20):
            the next stage's work scales with the edges. Its network must be trained on such graphs.
    """

    def __init__(
        self,
        *,
        model: nn.Module,
        optimizer: OptimizerCallable = torch.optim.Adam,
        scheduler: LRSchedulerCallable | None = None,
        min_pt: float = 1.0,
        min_hits: int = 3,
        margin: float = 0.1,
        r_train: float = 0.1,
        knn_train: int = 50,
        n_random: int = 20000,
        positive_weight: float = 1.0,
        r_infer: float = 0.1,
        knn_infer: int = 100,
        target_min_pt: float = 0.0,
        max_true_pairs: int | None = None,
        one_edge_per_pair: bool = False,
    ) -> None:
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits)
        self.margin, self.r_train, self.knn_train, self.n_random = margin, r_train, knn_train, n_random
        self.positive_weight = positive_weight
        self.r_infer, self.knn_infer, self.target_min_pt = r_infer, knn_infer, target_min_pt
        if max_true_pairs is not None and (isinstance(max_true_pairs, bool) or not isinstance(max_true_pairs, int)
                                           or max_true_pairs < 1):
            raise ValueError(f"max_true_pairs must be a positive integer or None (got {max_true_pairs!r})")
        self.max_true_pairs = max_true_pairs
        self.one_edge_per_pair = bool(one_edge_per_pair)

    def _target_pid(self, event: Any) -> torch.Tensor:
        pid = event.particle_id
        if self.target_min_pt > 0:
            pid = torch.where(event.pt > self.target_min_pt, pid, torch.zeros_like(pid))
        return pid

    def training_loss(self, batch: Any) -> LossOutput:
        emb = self.model(batch.x)
        pid = self._target_pid(batch)
        pairs = merge_pairs(
            true_pairs(pid, max_pairs_per_particle=self.max_true_pairs,
                       generator=None if self.max_true_pairs is None else self.step_generator(offset=1 << 20)),
            random_pairs(batch.num_nodes, self.n_random, generator=self.step_generator(), device=emb.device),
            radius_pairs(emb.detach(), self.r_train, max_num_neighbors=self.knn_train),
        )
        y = pair_labels(pairs, batch.particle_id)
        weight = None if self.positive_weight == 1.0 else torch.where(y, self.positive_weight, 1.0)
        loss = hinge_embedding_loss(emb, pairs, y, margin=self.margin, weight=weight, balance=True)
        return LossOutput(loss, {"n_pairs": torch.tensor(float(pairs.shape[1])), "pos_fraction": y.float().mean()})

    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        emb = self.model(event.x)
        graph = radius_graph(emb, self.r_infer, max_num_neighbors=self.knn_infer)
        if self.one_edge_per_pair:
            edge_index, distance = outward_pairs(graph.edge_index, graph.distance, event.x[:, 0])
            return {"embedding": emb, "edge_index": edge_index, "edge_distance": distance}
        return {"embedding": emb, "edge_index": graph.edge_index, "edge_distance": graph.distance}

    def edge_metrics(self, event: Any, outputs: dict[str, torch.Tensor]) -> EdgeMetrics:
        return edge_metrics(outputs["edge_index"], event.track_edges, event.num_nodes, target_j=self.target_hits(event))


def outward_pairs(
    edge_index: torch.Tensor, distance: torch.Tensor, radius: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each pair of ``edge_index`` once, from its hit of smaller ``radius`` (ties: smaller index) to the other,
    sorted by source then target, with its distance (a pair's two directions share one).

    Shapes:
        edge_index: (2, E) int64; distance: (E,); radius: (N,) -> ((2, P), (P,)), P <= E.
    """
    i, j = edge_index[0], edge_index[1]
    inner_first = (radius[i] < radius[j]) | ((radius[i] == radius[j]) & (i < j))
    src, dst = torch.where(inner_first, i, j), torch.where(inner_first, j, i)
    n = int(radius.numel())
    key, inverse = torch.unique(src * n + dst, return_inverse=True)
    kept = torch.zeros_like(key, dtype=distance.dtype).scatter_(0, inverse, distance)
    return torch.stack([key // n, key % n]), kept
