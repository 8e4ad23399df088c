"""What the filter and the edge classifier share: a per-edge logit trained on same-particle labels."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders.base import Grid, TrackBuilder
from trackcore.builders.leftover import SecondPass
from trackcore.losses import pair_labels, weighted_bce_with_logits
from trackcore.metrics import EdgeMetrics, edge_metrics
from trackcore.refinement.refine import HelixRefinement
from trackcore.train import LossOutput, TrackingModule, input_graph

SCORE_DTYPES: dict[str, torch.dtype | None] = {"float32": None, "bfloat16": torch.bfloat16}
"""The ``score_dtype`` settings: None runs the model as it is (float32)."""


class EdgeScoringModule(TrackingModule):
    """Base of the stages that score the edges of a previous stage's graph.

    Args:
        model: any module ``(x, edge_index) -> logits``.
        optimizer, scheduler, min_pt, min_hits, builder, scan, refine, second_pass: see
            :class:`~trackcore.train.TrackingModule` (a stage that makes no tracks takes no builder).
        pos_weight: weight of true (same-particle) edges in the BCE (~2 in Exa.TrkX).
        edge_cut: score cut of the edge metrics (and of what the stage keeps).
        score_dtype: ``"float32"``, or ``"bfloat16"``: inference (not training) under autocast to bfloat16, faster
            on CPUs with bfloat16 matrix units (Intel AMX) and on GPUs; the scores move a little (measured in the
            README, "Training at TrackML density").
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
        builder: TrackBuilder | None = None,
        scan: Grid | None = None,
        refine: HelixRefinement | None = None,
        second_pass: SecondPass | list[SecondPass] | None = None,
        score_dtype: str = "float32",
    ) -> None:
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         builder=builder, scan=scan, refine=refine,
                         second_pass=second_pass)
        if not 0.0 <= edge_cut < 1.0:
            raise ValueError(f"edge_cut must be in [0, 1) (got {edge_cut})")
        if score_dtype not in SCORE_DTYPES:
            raise ValueError(f"score_dtype must be one of {list(SCORE_DTYPES)} (got {score_dtype!r})")
        self.pos_weight, self.edge_cut, self.score_dtype = pos_weight, edge_cut, score_dtype

    def edge_scores(self, event: Any) -> torch.Tensor:
        """Probability that each edge of the event's graph joins two hits of one particle.

        Shapes:
            return: (E,).
        """
        dtype = SCORE_DTYPES[self.score_dtype]
        if dtype is None or self.training:
            return torch.sigmoid(self.model(event.x, input_graph(event)))
        with torch.autocast(event.x.device.type, dtype=dtype):
            logits = self.model(event.x, input_graph(event))
        return torch.sigmoid(logits.float())

    def training_loss(self, batch: Any) -> LossOutput:
        edge_index = input_graph(batch)
        logits = self.model(batch.x, edge_index)
        y = pair_labels(edge_index, batch.particle_id)
        loss = weighted_bce_with_logits(logits, y.float(), pos_weight=self.pos_weight)
        return LossOutput(loss, {"true_edge_fraction": y.float().mean()})

    def input_edge_scores(self, event: Any, outputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The scores of every input edge, for the edge metrics (``outputs["edge_score"]`` by default)."""
        return outputs["edge_score"]

    def edge_metrics(self, event: Any, outputs: dict[str, torch.Tensor]) -> EdgeMetrics:
        return edge_metrics(
            event.edge_index, event.track_edges, event.num_nodes,
            scores=self.input_edge_scores(event, outputs).detach(), threshold=self.edge_cut,
            particle_id_j=event.particle_id, label="same_particle", target_j=self.target_hits(event),
        )
