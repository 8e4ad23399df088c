"""Stage 3 of the Exa.TrkX pipeline: interaction-network edge classification and track building.

The GNN (Ju et al., arXiv:2103.06995; acorn ``InteractionGNN``) scores every edge of the
constructed graph; tracks are the connected components of the edges above a cut, or the
ITk "CC and walk" (:mod:`trackcore.builders`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders.base import Grid, TrackBuilder
from trackcore.graph.edge_scoring import EdgeScoringModule
from trackcore.nn import EDGE_FEATURE_NAMES, EdgeClassifierHead, InteractionNetwork, geometric_edge_features
from trackcore.refinement.refine import HelixRefinement


class InteractionGNN(nn.Module):
    """Interaction network plus edge head: one logit per input edge.

    Args:
        node_in: number of hit features.
        hidden_dim, n_iterations, aggrs, mlp_layers, activation, residual, share_weights:
            see :class:`trackcore.nn.InteractionNetwork`.
        head_layers: layers of the edge classifier MLP.
        edge_features: encode each edge from its geometry (:func:`trackcore.nn.geometric_edge_features`,
            needs ``x`` to start with ``r, phi, z``) instead of from its two node encodings.

    Shapes:
        x: (N, node_in); edge_index: (2, E) -> logits (E,).
    """

    def __init__(
        self,
        *,
        node_in: int = 4,
        hidden_dim: int = 128,
        n_iterations: int = 8,
        aggrs: Sequence[str] = ("sum", "max"),
        mlp_layers: int = 2,
        activation: str = "silu",
        residual: bool = True,
        share_weights: bool = False,
        head_layers: int = 3,
        edge_features: bool = False,
    ) -> None:
        super().__init__()
        self.edge_features = edge_features
        self.gnn = InteractionNetwork(
            node_in=node_in, edge_in=len(EDGE_FEATURE_NAMES) if edge_features else 0, hidden_dim=hidden_dim,
            n_iterations=n_iterations, aggrs=tuple(aggrs),
            mlp_layers=mlp_layers, activation=activation, residual=residual, share_weights=share_weights,
        )
        self.head = EdgeClassifierHead(node_dim=hidden_dim, edge_dim=hidden_dim, hidden_dim=hidden_dim,
                                       n_layers=head_layers, activation=activation)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        edge_attr = geometric_edge_features(x, edge_index) if self.edge_features else None
        out = self.gnn(x, edge_index, edge_attr)
        return self.head(out.node, edge_index, out.edge)


class EdgeClassifier(EdgeScoringModule):
    """Task module of the edge-classification stage.

    Args:
        model: an :class:`InteractionGNN` (any module ``(x, edge_index) -> logits``).
        optimizer, scheduler, min_pt, min_hits, builder, scan, refine: see
            :class:`~trackcore.train.TrackingModule` (the builder reads ``edge_score``, e.g.
            :class:`~trackcore.builders.EdgeComponents`).
        pos_weight: weight of true edges in the BCE (~2 in Exa.TrkX).
        edge_cut: score cut of the edge metrics; a builder with a ``cut`` must use the same one.
    """

    BUILDS_TRACKS: ClassVar[bool] = True

    def __init__(
        self,
        *,
        model: nn.Module,
        optimizer: OptimizerCallable = torch.optim.Adam,
        scheduler: LRSchedulerCallable | None = None,
        min_pt: float = 1.0,
        min_hits: int = 3,
        pos_weight: float = 2.0,
        edge_cut: float = 0.5,
        builder: TrackBuilder,
        scan: Grid | None = None,
        refine: HelixRefinement | None = None,
    ) -> None:
        cut = getattr(builder, "cut", edge_cut)
        if cut != edge_cut:
            raise ValueError(f"the builder's cut ({cut}) differs from edge_cut ({edge_cut}): the edge metrics and "
                             "the tracks would judge different graphs; set both to one value")
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         pos_weight=pos_weight, edge_cut=edge_cut, builder=builder, scan=scan, refine=refine)

    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        return {"edge_score": self.edge_scores(event)}
