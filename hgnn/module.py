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

Tracks: the bipartite scores are hardened by :func:`trackcore.builders.assign` (``"threshold"``,
HGNN's choice, lets a hit join several tracks: shared hits; ``"argmax"``, ``"topk"``,
``"matching"`` by module); the embedding variant is clustered by HDBSCAN. With
``scan_threshold``, every validation epoch picks the threshold (DM efficiency - fake rate) and
the checkpoint keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders import AssignmentOptions, NoFiniteObjectiveError, assign, hdbscan, module_key, scan_result
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
from trackcore.metrics import EventTruth, TrackingEvaluation, evaluate_tracks
from trackcore.refinement.refine import HelixRefinement
from trackcore.train import (
    LossOutput,
    TrackingModule,
    batch_events,
    check_edge_score_cut,
    check_input_keys,
    epochs_of_run,
    gather_by_event,
    input_graph,
    node_features,
)

CHECKPOINT_KEY = "building"


class HGNNModule(TrackingModule):
    """Task module of the hierarchical GNN (module docstring).

    Args:
        model: a :class:`hgnn.model.HierarchicalGNN`.
        optimizer, scheduler, min_pt, min_hits, refine: see :class:`~trackcore.train.TrackingModule`.
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
        assignment: ``"threshold"``, ``"argmax"``, ``"topk"`` or ``"matching"`` (bipartite model).
        threshold: score cut of ``"threshold"`` (0.7 in the paper).
        min_weight, k: of ``"argmax"``/``"topk"``/``"matching"``.
        scan_threshold: thresholds scanned on the validation events every validation epoch (each judged
            after the refinement, when ``refine`` is given).
        scan_argmax: whether that scan also tries ``"argmax"`` (with ``min_weight``) beside the
            thresholds; the best of all is used. After the refinement argmax won on both presets'
            validation events (issue 8 note): each hit in exactly one candidate, which the refinement
            then splits and repairs.
        hdbscan_min_cluster_size: of the embedding variant's HDBSCAN.
        min_track_hits: smaller candidates are dropped.
        regroup_top_k: with ``refine``, hand the refinement each hit's ``k`` best-scored super-nodes as
            groups: hits that the refinement released and left in no candidate are searched for helices
            among the free hits sharing one of them (:class:`trackcore.refinement.refine.HelixRefinement`,
            step 5), the model's second choices. None: no such step. Real pT > 1 GeV validation events
            (argmax, refined): 95.0% DM efficiency without, 97.7% / 97.9% / 98.0% with k = 2 / 3 / 4;
            the same step after an untrained model: 31% -> 37%.
    """

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
        assignment: Literal["threshold", "argmax", "topk", "matching"] = "threshold",
        threshold: float = 0.7,
        min_weight: float = 0.5,
        k: int = 2,
        scan_threshold: Sequence[float] | None = None,
        scan_argmax: bool = False,
        hdbscan_min_cluster_size: int = 3,
        min_track_hits: int = 3,
        refine: HelixRefinement | None = None,
        regroup_top_k: int | None = None,
    ) -> None:
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         refine=refine)
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
        self.variant = getattr(model, "variant", "bipartite")
        self.assignment = AssignmentOptions(method=assignment, threshold=threshold, min_weight=min_weight, k=k,
                                            min_hits=min_track_hits)
        if scan_threshold is not None:
            if assignment != "threshold" or self.variant != "bipartite":
                raise ValueError("scan_threshold needs the bipartite model and assignment 'threshold'")
            if not len(scan_threshold) or not all(0.0 <= t <= 1.0 for t in scan_threshold):
                raise ValueError(f"scan_threshold must be a non-empty list of values in [0, 1] (got {scan_threshold})")
        self.scan_threshold = None if scan_threshold is None else [float(t) for t in scan_threshold]
        if scan_argmax and scan_threshold is None:
            raise ValueError("scan_argmax adds argmax to the threshold scan: set scan_threshold too")
        self.scan_argmax = bool(scan_argmax)
        self.hdbscan_min_cluster_size, self.min_track_hits = hdbscan_min_cluster_size, min_track_hits
        if regroup_top_k is not None:
            if self.variant != "bipartite":
                raise ValueError("regroup_top_k needs the bipartite model (super-node scores)")
            if isinstance(regroup_top_k, bool) or not isinstance(regroup_top_k, int) or regroup_top_k < 1:
                raise ValueError(f"regroup_top_k must be None or an integer >= 1 (got {regroup_top_k!r})")
        self.regroup_top_k = regroup_top_k
        self._scan_inputs: list[tuple[int, tuple[int, Any], dict[str, torch.Tensor], EventTruth]] = []

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

    def build_tracks(self, event: Any, outputs: dict[str, torch.Tensor]) -> TrackCandidates:
        if "coords" in outputs:
            return hdbscan(outputs["coords"].detach(), min_cluster_size=self.hdbscan_min_cluster_size,
                           hit_id=event.hit_id, min_hits=self.min_track_hits)
        group = None
        if self.assignment.method == "matching":  # a track crosses a module once: one hit per (candidate, module)
            group = module_key(event.volume_id.long(), event.layer_id.long(), event.module_id.long())
        return self._assign(outputs, int(event.num_nodes), event.hit_id, self.assignment, group)

    def refine_groups(self, event: Any, outputs: dict[str, torch.Tensor]) -> TrackCandidates | None:
        """Each hit's ``regroup_top_k`` best-scored super-nodes (None without ``regroup_top_k``)."""
        if self.regroup_top_k is None or "bipartite_score" not in outputs:
            return None
        options = AssignmentOptions(method="topk", k=self.regroup_top_k, min_weight=0.0, min_hits=1)
        return self._assign(outputs, int(event.num_nodes), event.hit_id, options)

    @staticmethod
    def _assign(
        outputs: dict[str, torch.Tensor], num_hits: int, hit_id: Any, options: AssignmentOptions, group: Any = None
    ) -> TrackCandidates:
        """Hard tracks from the bipartite scores (:func:`trackcore.builders.assign`)."""
        return assign(outputs["bipartite_hit"].cpu(), outputs["bipartite_super"].cpu(),
                      outputs["bipartite_score"].detach().float().cpu(), num_hits, options=options,
                      group_j=None if group is None else group.cpu(), hit_id=hit_id)

    # ------------------------------------------------------------------ validation-time threshold scan
    def evaluate_event_tracks(
        self, stage: str, event_id: int, event: Any, outputs: dict[str, torch.Tensor]
    ) -> TrackingEvaluation | None:
        if stage != "val" or self.scan_threshold is None:
            return super().evaluate_event_tracks(stage, event_id, event, outputs)
        keep = {key: outputs[key].detach().cpu() for key in ("bipartite_hit", "bipartite_super", "bipartite_score")}
        self._scan_inputs.append((event_id, (int(event.num_nodes), event.hit_id.cpu()), keep,
                                  EventTruth.from_data(event), event.cpu() if self.refine is not None else None))
        return None

    def on_validation_epoch_end(self) -> None:
        if self.scan_threshold is not None and self._scan_inputs:
            inputs = gather_by_event(self._scan_inputs, key=lambda item: item[0])
            self._scan_inputs = []
            evaluations = {}
            groups_by_event = [None if event is None else self.refine_groups(event, out)
                               for _, _, out, _, event in inputs]
            grid = [(0.0, t) for t in self.scan_threshold] + ([(1.0, float("nan"))] if self.scan_argmax else [])
            for is_argmax, t in grid:
                options = self._scan_options(bool(is_argmax), t)
                evaluations[(is_argmax, t)] = [
                    evaluate_tracks(self.refine_tracks(self._assign(out, n, hit_id, options), event, groups), truth,
                                    self.poi)
                    for (_, (n, hit_id), out, truth, event), groups in zip(inputs, groups_by_event, strict=True)
                ]
            try:
                scan = scan_result(evaluations, ["argmax", "threshold"])
                best = scan.best_params
                self.assignment = self._scan_options(bool(best["argmax"]), float(best["threshold"]))
                chosen = scan.best_evaluations
            except NoFiniteObjectiveError:  # no setting made a track yet (early training): keep ours
                chosen = next(iter(evaluations.values()))
            self.log("val/threshold", self.assignment.threshold)
            self.log("val/argmax", float(self.assignment.method == "argmax"))
            self.set_val_tracking({eid: ev for (eid, *_), ev in zip(inputs, chosen, strict=True)})
        super().on_validation_epoch_end()

    def _scan_options(self, is_argmax: bool, threshold: float) -> AssignmentOptions:
        """One point of the validation-time scan: argmax (with ``min_weight``) or a threshold."""
        if is_argmax:
            return AssignmentOptions(method="argmax", min_weight=self.assignment.min_weight,
                                     min_hits=self.min_track_hits)
        return AssignmentOptions(method="threshold", threshold=threshold, min_weight=self.assignment.min_weight,
                                 min_hits=self.min_track_hits)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = {"threshold": self.assignment.threshold,
                                      "argmax": self.assignment.method == "argmax"}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        saved = checkpoint.get(CHECKPOINT_KEY)
        if saved is not None and self.scan_threshold is not None:  # checkpoints before scan_argmax lack "argmax"
            self.assignment = self._scan_options(bool(saved.get("argmax", False)), float(saved["threshold"]))
