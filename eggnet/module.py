"""The EggNet task module: contrastive (or OC) loss in training; tracks by the injected builder.

Training runs the model on each event's point cloud (kNN graphs never cross events) and
minimises :func:`trackcore.losses.contrastive_loss` (squared hinge over true track edges, kNN
pairs in the final embedding and random pairs), or, with ``loss="condensation"``,
:func:`trackcore.losses.condensation_loss` on the embedding and the model's ``beta``.
:meth:`infer` gives ``coords`` (the embedding) and ``beta``; the injected builder makes the tracks
(DBSCAN, EggNet's choice, with its ``eps``/``min_samples`` scanned on the validation events).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders.base import Grid, TrackBuilder
from trackcore.builders.leftover import SecondPass
from trackcore.losses import CondensationLoss, ContrastiveLoss, condensation_loss, contrastive_loss
from trackcore.refinement.refine import HelixRefinement
from trackcore.train import LossOutput, TrackingModule, batch_events

LOSSES = ("contrastive", "condensation")


class EggNetModule(TrackingModule):
    """Task module of EggNet.

    Args:
        model: an :class:`eggnet.model.EggNet` (``x -> EggNetOutput``).
        optimizer, scheduler, min_pt, min_hits, refine, second_pass: see :class:`~trackcore.train.TrackingModule`.
        loss: ``"contrastive"`` (EggNet) or ``"condensation"`` (needs the model's beta head).
        margin: hinge margin of the contrastive loss (1 on the unit sphere).
        knn_pairs: neighbours per hit of the loss's kNN pairs (the model's ``k`` by default).
        n_random: random pairs per event.
        balance: contrastive loss as mean over positives + mean over negatives.
        q_min, attractive_weight, repulsive_weight, coward_weight, noise_weight,
            loss_normalization: the OC loss (see :func:`trackcore.losses.condensation_loss`).
        builder, scan: track building and its validation-time scan, see
            :class:`~trackcore.train.TrackingModule` (the builder reads ``coords``, and ``beta`` if
            the model has a beta head).
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
        loss: Literal["contrastive", "condensation"] = "contrastive",
        margin: float = 1.0,
        knn_pairs: int | None = None,
        n_random: int = 100_000,
        balance: bool = False,
        q_min: float = 0.01,
        attractive_weight: float = 1.0,
        repulsive_weight: float = 1.0,
        coward_weight: float = 1.0,
        noise_weight: float = 1.0,
        loss_normalization: Literal["hits", "pairs"] = "pairs",
        builder: TrackBuilder,
        scan: Grid | None = None,
        refine: HelixRefinement | None = None,
        second_pass: SecondPass | list[SecondPass] | None = None,
    ) -> None:
        has_beta = bool(getattr(model, "has_beta", False))
        if isinstance(builder, TrackBuilder) and "beta" in builder.reads and not has_beta:
            raise ValueError(f"{type(builder).__name__} needs a beta: this model outputs none (build it with "
                             "beta_head: true, or use a builder that reads only coords)")
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         builder=builder, scan=scan, refine=refine,
                         second_pass=second_pass)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES} (got {loss!r})")
        if loss == "condensation" and not has_beta:
            raise ValueError("loss 'condensation' needs a beta: build the model with beta_head: true")
        if not margin > 0:
            raise ValueError(f"margin must be > 0 (got {margin})")
        self.loss = loss
        self.contrastive_options = dict(
            k=knn_pairs if knn_pairs is not None else int(getattr(getattr(model, "block", None), "k", 10)),
            n_random=n_random, margin=margin, balance=balance,
        )
        self.condensation_options = dict(
            q_min=q_min, attractive_weight=attractive_weight, repulsive_weight=repulsive_weight,
            coward_weight=coward_weight, noise_weight=noise_weight, normalization=loss_normalization,
        )

    def training_loss(self, batch: Any) -> LossOutput:
        # Per event: the kNN graphs and the pairs must not join hits of different events.
        if self.loss == "contrastive":
            parts = []
            for n, event in enumerate(batch_events(batch)):
                out = self.model(event.x)
                parts.append(contrastive_loss(out.embedding, event.particle_id, event.track_edges,
                                              generator=self.step_generator(n), **self.contrastive_options))
            loss = ContrastiveLoss.mean(parts)
            return LossOutput(loss.total, loss.terms())
        losses = []
        for event in batch_events(batch):
            out = self.model(event.x)
            losses.append(condensation_loss(out.beta, out.embedding, event.particle_id, **self.condensation_options))
        oc = CondensationLoss.mean(losses)
        return LossOutput(oc.total, oc.terms())

    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        out = self.model(event.x)
        outputs = {"coords": out.embedding}
        if out.beta is not None:
            outputs["beta"] = out.beta
        return outputs
