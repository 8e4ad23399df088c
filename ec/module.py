"""Stage 3 of the Exa.TrkX pipeline: the edge-classification task module.

The GNN (:class:`ec.model.InteractionGNN`) scores every edge of the constructed graph; the
injected builder makes the tracks: connected components of the edges above a cut, or the ITk
"CC and walk" (:class:`trackcore.builders.EdgeComponents`).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders.base import Grid, TrackBuilder
from trackcore.builders.leftover import SecondPass
from trackcore.graph.edge_scoring import EdgeScoringModule
from trackcore.refinement.refine import HelixRefinement


class EdgeClassifier(EdgeScoringModule):
    """Task module of the edge-classification stage.

    Args:
        model: an :class:`ec.model.InteractionGNN` (any module ``(x, edge_index) -> logits``).
        optimizer, scheduler, min_pt, min_hits, builder, scan, refine, second_pass: see
            :class:`~trackcore.train.TrackingModule` (the builder reads ``edge_score``, e.g.
            :class:`~trackcore.builders.EdgeComponents`).
        pos_weight: weight of true edges in the BCE (~2 in Exa.TrkX).
        edge_cut: score cut of the edge metrics; a builder with a ``cut`` must use the same one.
        score_dtype: see :class:`~trackcore.graph.edge_scoring.EdgeScoringModule`.
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
        second_pass: SecondPass | list[SecondPass] | None = None,
        score_dtype: str = "float32",
    ) -> None:
        cut = getattr(builder, "cut", edge_cut)
        if cut != edge_cut:
            raise ValueError(f"the builder's cut ({cut}) differs from edge_cut ({edge_cut}): the edge metrics and "
                             "the tracks would judge different graphs; set both to one value")
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         pos_weight=pos_weight, edge_cut=edge_cut, builder=builder, scan=scan, refine=refine,
                         second_pass=second_pass, score_dtype=score_dtype)

    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        return {"edge_score": self.edge_scores(event)}
