"""The HGNN task module: embedding + bipartite losses with the sine schedule; hard tracks by assignment.

Training minimises, per event, ``s * L_embedding + (1 - s) * L_head`` with HGNN's schedule
``s = 1 - sin(pi * epoch / (2 E))`` for ``epoch < E``, then 0
(:func:`trackcore.losses.embedding_loss_weight`). ``E`` follows the run like the learning rate
(:mod:`trackcore.train.schedule`): ``schedule_fraction`` of the trainer's ``max_epochs``, so a run
cut to ``--trainer.max_epochs 3`` hands over to the head within its 3 epochs; ``schedule_epochs``
fixes ``E`` in epochs instead, deliberately (it then wins over the fraction):

- ``L_embedding``: hinge loss on the intermediate (GMPool) embedding over the input-graph edges,
  the true track edges and random pairs, pT-weighted;
- ``L_head`` of the ``"bipartite"`` model: BCE on the hit-to-super-node edges, whose truth comes
  from the maximum-weight matching of particles to super-nodes
  (:func:`trackcore.losses.bipartite_targets`), pT-weighted; of the ``"embedding"`` model: the
  same hinge loss on the final embedding over true edges, its kNN pairs and random pairs.

Tracks: the injected builder hardens the bipartite scores (:class:`trackcore.builders.SoftAssignment`:
``"threshold"``, HGNN's choice, lets a hit join several tracks; ``"argmax"``, ``"topk"``,
``"matching"`` by module) or clusters the embedding variant's ``coords``
(:class:`trackcore.builders.HDBSCANBuilder`); a ``scan`` grid is chosen on the validation events
every epoch (:class:`trackcore.train.TrackingModule`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders import SoftAssignment
from trackcore.builders.base import Grid, TrackBuilder
from trackcore.builders.leftover import SecondPass
from trackcore.candidates import TrackCandidates
from trackcore.losses import (
    bipartite_targets,
    embedding_loss_weight,
    hinge_embedding_loss,
    knn_pairs,
    merge_pairs,
    pair_labels,
    pt_weight,
    random_pairs,
    weighted_bce_with_logits,
)
from trackcore.refinement.refine import HelixRefinement
from trackcore.train import (
    LossOutput,
    TrackingModule,
    batch_events,
    check_edge_score_cut,
    check_input_keys,
    epochs_of_run,
    input_graph,
    node_features,
)

_POOLING_OUTPUTS = ("embedding", "hit_cluster", "bipartite_hit", "bipartite_super", "bipartite_weight",
                    "num_super_nodes")
BIPARTITE_OUTPUTS = (*_POOLING_OUTPUTS, "bipartite_score")
"""What :meth:`HGNNModule.infer` gives for the bipartite model (the embedding variant: ``EMBEDDING_OUTPUTS``)."""
EMBEDDING_OUTPUTS = (*_POOLING_OUTPUTS, "coords")


class HGNNModule(TrackingModule):
    """Task module of the hierarchical GNN (module docstring).

    Args:
        model: a :class:`hgnn.model.HierarchicalGNN`.
        optimizer, scheduler, min_pt, min_hits, refine, second_pass: see :class:`~trackcore.train.TrackingModule`.
        input_keys: per-hit tensors concatenated as node features, ``x`` first.
        edge_score_cut: run on the edges of ``ec``'s scored graph with ``edge_score >=`` this
            (None: the whole input graph).
        schedule_fraction: ``E`` of the sine schedule as a fraction of the run:
            ``E = round(schedule_fraction * max_epochs)``, at least 1 when the fraction is > 0
            (0: the head loss alone from the start).
        schedule_epochs: ``E`` in epochs, whatever the run's length (None: from ``schedule_fraction``).
        min_embedding_weight: the embedding term's weight never falls below this. The paper lets
            it reach 0; then nothing holds the pooling embedding in place, and on a tiny event the
            super-nodes merged particles within ~50 steps (DM efficiency 0.67 instead of 1.0).
        margin: hinge margin of the embedding losses (unit-norm embeddings, distances in [0, 2]).
        n_random_pairs: random pairs per event in the embedding losses.
        knn_k: kNN pairs per hit in the embedding variant's loss.
        pt_floor, pt_window: pT weighting of the losses (:func:`trackcore.losses.pt_weight`,
            cut at ``min_pt``).
        matching_weight: the weight of a bipartite edge in the particle-to-super-node matching:
            ``"score"`` (the paper's predicted score), ``"assignment"`` (the pooling's soft
            assignment) or ``"product"`` (both; early, when the scores are flat, the assignment
            decides, see :mod:`trackcore.losses.bipartite`).
        builder, scan: see :class:`~trackcore.train.TrackingModule`; the bipartite model's builder
            reads ``bipartite_hit``/``bipartite_super``/``bipartite_score``, the embedding
            variant's ``coords``.
        regroup_top_k: with ``refine``, hand the refinement each hit's ``k`` best-scored super-nodes as
            groups: hits that the refinement released and left in no candidate are searched for helices
            among the free hits sharing one of them (:class:`trackcore.refinement.refine.HelixRefinement`,
            step 5), the model's second choices (measured in the issue 8 note). None: no such step.
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
        input_keys: Sequence[str] = ("x",),
        edge_score_cut: float | None = None,
        schedule_fraction: float = 0.2,
        schedule_epochs: int | None = None,
        min_embedding_weight: float = 0.1,
        margin: float = 1.0,
        n_random_pairs: int = 20_000,
        knn_k: int = 10,
        pt_floor: float = 0.5,
        pt_window: float = 0.5,
        matching_weight: Literal["score", "assignment", "product"] = "product",
        builder: TrackBuilder,
        scan: Grid | None = None,
        refine: HelixRefinement | None = None,
        second_pass: SecondPass | list[SecondPass] | None = None,
        regroup_top_k: int | None = None,
    ) -> None:
        variant = getattr(model, "variant", "bipartite")
        gives = BIPARTITE_OUTPUTS if variant == "bipartite" else EMBEDDING_OUTPUTS
        if isinstance(builder, TrackBuilder) and not set(builder.reads) <= set(gives):
            raise ValueError(f"{type(builder).__name__} reads {list(builder.reads)}; the {variant} model gives "
                             f"{list(gives)}")
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         builder=builder, scan=scan, refine=refine,
                         second_pass=second_pass)
        self.input_keys = check_input_keys(input_keys)
        self.edge_score_cut = check_edge_score_cut(edge_score_cut)
        if schedule_epochs is not None and schedule_epochs < 0:
            raise ValueError(f"schedule_epochs must be >= 0 (got {schedule_epochs})")
        if not 0.0 <= schedule_fraction <= 1.0:
            raise ValueError(f"schedule_fraction must be in [0, 1] (got {schedule_fraction})")
        if not margin > 0:
            raise ValueError(f"margin must be > 0 (got {margin})")
        if n_random_pairs < 0 or knn_k < 1:
            raise ValueError(f"n_random_pairs must be >= 0 and knn_k >= 1 (got {n_random_pairs}, {knn_k})")
        if not 0.0 <= min_embedding_weight <= 1.0:
            raise ValueError(f"min_embedding_weight must be in [0, 1] (got {min_embedding_weight})")
        self.schedule_fraction, self.schedule_epochs = schedule_fraction, schedule_epochs
        self.min_embedding_weight, self.margin = min_embedding_weight, margin
        self.n_random_pairs, self.knn_k = n_random_pairs, knn_k
        self.pt_options = dict(pt_cut=min_pt, floor=pt_floor, window=pt_window)
        if matching_weight not in ("score", "assignment", "product"):
            raise ValueError(f"matching_weight must be 'score', 'assignment' or 'product' (got {matching_weight!r})")
        self.matching_weight = matching_weight
        self.variant = variant
        if regroup_top_k is not None:
            if self.variant != "bipartite":
                raise ValueError("regroup_top_k needs the bipartite model (super-node scores)")
            if isinstance(regroup_top_k, bool) or not isinstance(regroup_top_k, int) or regroup_top_k < 1:
                raise ValueError(f"regroup_top_k must be None or an integer >= 1 (got {regroup_top_k!r})")
        self.regroup_top_k = regroup_top_k

    # ------------------------------------------------------------------ training
    def _hit_weight(self, event: Any) -> torch.Tensor:
        pt = getattr(event, "pt", None)
        if pt is None:
            return torch.ones(event.num_nodes, device=event.x.device)
        return pt_weight(pt.float(), **self.pt_options)

    def _hinge(self, x: torch.Tensor, event: Any, pairs: torch.Tensor, w_j: torch.Tensor) -> torch.Tensor:
        y = pair_labels(pairs, event.particle_id)
        weight = torch.maximum(w_j[pairs[0]], w_j[pairs[1]])
        return hinge_embedding_loss(x, pairs, y, margin=self.margin, weight=weight, balance=True)

    def _event_loss(self, event: Any, offset: int) -> dict[str, torch.Tensor]:
        graph = input_graph(event, self.edge_score_cut)
        out = self.model(node_features(event, self.input_keys), graph)
        w_j = self._hit_weight(event)
        n = event.num_nodes
        generator = self.step_generator(offset)
        rand = random_pairs(n, self.n_random_pairs, generator=generator).to(graph.device)
        track_edges = getattr(event, "track_edges", graph[:, :0])
        terms = {"embedding_loss": self._hinge(out.embedding, event, merge_pairs(graph, track_edges, rand), w_j)}
        if out.bipartite_logit is not None:
            pool = out.pooling
            score, assignment = torch.sigmoid(out.bipartite_logit.detach()), pool.bipartite_weight.detach()
            weight = {"score": score, "assignment": assignment, "product": score * assignment}[self.matching_weight]
            targets = bipartite_targets(pool.bipartite_index, weight, event.particle_id, pool.num_super_nodes)
            terms["bipartite_loss"] = weighted_bce_with_logits(out.bipartite_logit, targets.label_e,
                                                               weight=w_j[pool.bipartite_index[0]])
            terms["super_nodes"] = torch.tensor(float(pool.num_super_nodes))
            terms["matched_super_nodes"] = (targets.super_particle != 0).sum().float()
        else:
            pairs = merge_pairs(track_edges, rand, knn_pairs(out.coords.detach(), k=self.knn_k))
            terms["coords_loss"] = self._hinge(out.coords, event, pairs, w_j)
        terms["gmm_cut"] = out.pooling.cut.detach().float()
        return terms

    def schedule_length(self) -> int:
        """``E`` of the sine schedule: ``schedule_epochs``, else ``schedule_fraction`` of the run.

        Without a trainer (a loss computed by hand) the epoch is 0, where every ``E >= 1`` gives
        the same weight: ``E`` is then 1 for a fraction > 0.
        """
        if self.schedule_epochs is not None:
            return self.schedule_epochs
        max_epochs = self.trainer_max_epochs()
        if max_epochs is None:
            return 0 if self.schedule_fraction == 0 else 1
        return epochs_of_run(self.schedule_fraction, max_epochs)

    def training_loss(self, batch: Any) -> LossOutput:
        s = max(embedding_loss_weight(self.current_epoch, self.schedule_length()), self.min_embedding_weight)
        per_event = [self._event_loss(event, i) for i, event in enumerate(batch_events(batch))]
        terms = {key: torch.stack([t[key] for t in per_event]).mean() for key in per_event[0]}
        head = terms["bipartite_loss"] if "bipartite_loss" in terms else terms["coords_loss"]
        loss = s * terms["embedding_loss"] + (1.0 - s) * head
        terms["embedding_weight"] = torch.tensor(s)
        return LossOutput(loss, {k: v.detach() for k, v in terms.items()})

    # ------------------------------------------------------------------ inference and building
    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        out = self.model(node_features(event, self.input_keys), input_graph(event, self.edge_score_cut))
        pool = out.pooling
        outputs = {
            "embedding": out.embedding,
            "hit_cluster": pool.hit_cluster,
            "bipartite_hit": pool.bipartite_index[0],
            "bipartite_super": pool.bipartite_index[1],
            "bipartite_weight": pool.bipartite_weight,
            "num_super_nodes": torch.tensor([pool.num_super_nodes]),
        }
        if out.bipartite_logit is not None:
            outputs["bipartite_score"] = torch.sigmoid(out.bipartite_logit)
        else:
            outputs["coords"] = out.coords
        return outputs

    def refine_groups(self, event: Any, outputs: dict[str, torch.Tensor]) -> TrackCandidates | None:
        """Each hit's ``regroup_top_k`` best-scored super-nodes (None without ``regroup_top_k``)."""
        if self.regroup_top_k is None or "bipartite_score" not in outputs:
            return None
        groups = SoftAssignment(method="topk", k=self.regroup_top_k, min_weight=0.0, min_hits=1)
        return groups(event, outputs)
