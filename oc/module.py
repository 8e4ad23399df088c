"""The object-condensation task module: the OC loss in training; tracks by the injected builder.

The model (:class:`oc.model.CondensationGNN`) maps each hit of a graph-construction stage's
graph to a condensation strength ``beta`` and cluster coordinates. Training minimises
:func:`trackcore.losses.condensation_loss`; :meth:`infer` gives ``beta`` and ``coords``, which
the builder turns into tracks: :class:`~trackcore.builders.DBSCANBuilder` (gnn_tracking's
default) or :class:`~trackcore.builders.CondensationPoints` (Kieseler's condensation points).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders.base import Grid, TrackBuilder
from trackcore.builders.leftover import SecondPass
from trackcore.losses import CondensationLoss, condensation_loss, objects_of_interest
from trackcore.refinement.refine import HelixRefinement
from trackcore.train import (
    LossOutput,
    TrackingModule,
    batch_events,
    check_edge_score_cut,
    check_input_keys,
    input_graph,
    node_features,
)


class ObjectCondensation(TrackingModule):
    """Task module of the object-condensation tracker.

    Args:
        model: a module ``(x, edge_index) -> CondensationOutput`` (beta (N,), coords (N, D)).
        optimizer, scheduler, min_pt, min_hits, builder, scan, refine, second_pass: see
            :class:`~trackcore.train.TrackingModule` (``min_pt``/``min_hits`` define the particles
            of interest of the metrics; the builder reads ``coords`` and ``beta``).
        q_min, attractive_weight, repulsive_weight, coward_weight, noise_weight: see
            :func:`trackcore.losses.condensation_loss`.
        loss_implementation: ``"dense"`` (hits x objects) or ``"radius"`` (large events).
        loss_max_num_neighbors: neighbour cap of the ``"radius"`` implementation.
        loss_normalization: ``"pairs"`` (mean over pairs, gnn_tracking) or ``"hits"`` (the paper's
            1/N, which lets the repulsion outweigh the attraction ~K times).
        object_min_pt, object_max_abs_eta, object_min_hits: the objects of the loss (the other
            particles' hits are only repelled); see :func:`trackcore.losses.objects_of_interest`.
        input_keys: the per-hit tensors concatenated as the model's node features, ``x`` first
            (its ``r, phi, z`` give the edge geometry); e.g. ``[x, embedding]`` adds the
            metric-learning stage's embedding (then ``node_in`` = 4 + its size).
        edge_score_cut: if given, the GNN runs on the edges whose ``edge_score`` (``ec``'s
            edge-scoring stage output) is at least this (gnn_tracking's EC-filtered graph);
            otherwise on the whole input graph.
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
        q_min: float = 0.01,
        attractive_weight: float = 1.0,
        repulsive_weight: float = 1.0,
        coward_weight: float = 1.0,
        noise_weight: float = 1.0,
        loss_implementation: Literal["dense", "radius"] = "dense",
        loss_max_num_neighbors: int | None = 256,
        loss_normalization: Literal["hits", "pairs"] = "pairs",
        object_min_pt: float = 0.0,
        object_max_abs_eta: float | None = None,
        object_min_hits: int = 1,
        input_keys: Sequence[str] = ("x",),
        edge_score_cut: float | None = None,
        builder: TrackBuilder,
        scan: Grid | None = None,
        refine: HelixRefinement | None = None,
        second_pass: SecondPass | list[SecondPass] | None = None,
    ) -> None:
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         builder=builder, scan=scan, refine=refine,
                         second_pass=second_pass)
        if loss_implementation not in ("dense", "radius"):
            raise ValueError(f"loss_implementation must be 'dense' or 'radius' (got {loss_implementation!r})")
        self.loss_options = dict(
            q_min=q_min, attractive_weight=attractive_weight, repulsive_weight=repulsive_weight,
            coward_weight=coward_weight, noise_weight=noise_weight, implementation=loss_implementation,
            max_num_neighbors=loss_max_num_neighbors, normalization=loss_normalization,
        )
        self.object_options = dict(min_pt=object_min_pt, max_abs_eta=object_max_abs_eta, min_hits=object_min_hits)
        self.input_keys = check_input_keys(input_keys)
        self.edge_score_cut = check_edge_score_cut(edge_score_cut)

    def _objects(self, event: Any) -> torch.Tensor:
        """Hits of the objects of the loss (see ``object_*``)."""
        opts = self.object_options
        return objects_of_interest(
            event.particle_id,
            getattr(event, "pt", None) if opts["min_pt"] > 0 else None,
            getattr(event, "eta", None) if opts["max_abs_eta"] is not None else None,
            **opts,
        )

    def training_loss(self, batch: Any) -> LossOutput:
        # The loss is per event: particle ids repeat across the events of a batch.
        losses = []
        for event in batch_events(batch):
            out = self.model(node_features(event, self.input_keys), input_graph(event, self.edge_score_cut))
            losses.append(condensation_loss(out.beta, out.coords, event.particle_id,
                                            interest_j=self._objects(event), **self.loss_options))
        loss = CondensationLoss.mean(losses)
        return LossOutput(loss.total, loss.terms())

    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        out = self.model(node_features(event, self.input_keys), input_graph(event, self.edge_score_cut))
        return {"beta": out.beta, "coords": out.coords}
