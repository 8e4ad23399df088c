"""Stage 3 of the Exa.TrkX pipeline: interaction-network edge classification and track building.

The GNN (Ju et al., arXiv:2103.06995; acorn ``InteractionGNN``) scores every edge of the
constructed graph; tracks are the connected components of the edges above a cut, or the
ITk "CC and walk" (:mod:`trackcore.builders`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders import cc_and_walk, connected_components
from trackcore.candidates import TrackCandidates
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
        optimizer, scheduler, min_pt, min_hits, refine: see :class:`~trackcore.train.TrackingModule`.
        pos_weight: weight of true edges in the BCE (~2 in Exa.TrkX).
        edge_cut: score cut for edge metrics and connected components.
        building: ``"cc"`` (connected components) or ``"walk"`` (CC and walk).
        walk_min, walk_max: the walk-through cuts (``building="walk"``).
        min_track_hits: smaller candidates are dropped.
    """

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
        building: Literal["cc", "walk"] = "cc",
        walk_min: float = 0.1,
        walk_max: float = 0.6,
        min_track_hits: int = 3,
        refine: HelixRefinement | None = None,
    ) -> None:
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         pos_weight=pos_weight, edge_cut=edge_cut, refine=refine)
        if building not in ("cc", "walk"):
            raise ValueError(f"building must be 'cc' or 'walk' (got {building!r})")
        self.building = building
        self.walk_min, self.walk_max, self.min_track_hits = walk_min, walk_max, min_track_hits

    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        return {"edge_score": self.edge_scores(event)}

    def build_tracks(self, event: Any, outputs: dict[str, torch.Tensor]) -> TrackCandidates:
        edge_index, scores = event.edge_index.cpu(), outputs["edge_score"].detach().cpu()
        if self.building == "cc":
            return connected_components(edge_index, event.num_nodes, scores=scores, threshold=self.edge_cut,
                                        hit_id=event.hit_id, min_hits=self.min_track_hits)
        r = torch.linalg.vector_norm(event.pos[:, :2], dim=1)
        return cc_and_walk(edge_index, scores, event.num_nodes, direction=r, cc_cut=self.edge_cut,
                           walk_min=self.walk_min, walk_max=self.walk_max, min_hits=self.min_track_hits,
                           hit_id=event.hit_id)
