"""The one LightningModule base that every tracker family's task module extends.

A task module receives a pure ``nn.Module`` model, an optimizer and (optionally) a learning
rate scheduler by dependency injection (LightningCLI ``class_path`` / ``init_args``), and
implements three hooks:

- :meth:`TrackingModule.training_loss`: the loss of one batch (a typed :class:`LossOutput`);
- :meth:`TrackingModule.infer`: the stage's per-event outputs (scores, embeddings, graphs);
- :meth:`TrackingModule.build_tracks` (optional): track candidates from those outputs;
  with ``refine`` given, every candidate set then passes the shared helix-fit refinement
  (:class:`~trackcore.refinement.refine.HelixRefinement`: clean, merge, extend) in :meth:`TrackingModule.tracks`;
- :meth:`TrackingModule.edge_metrics` (optional): edge efficiency/purity of one event.

The base does the rest the same way for everyone: logging the loss terms, computing the
shared tracking metrics (:mod:`trackcore.metrics`) on whole validation/test events, and
returning per-event predictions that :class:`~trackcore.train.writer.StageWriter` saves.

Validation of a module that builds tracks also logs ``val/fom``, the figure of merit that chooses
the run's best checkpoint (:mod:`trackcore.train.checkpoint`): DM efficiency minus DM fake rate,
the objective by which the validation-time scans choose their building settings.

The learning-rate schedule follows the run (:mod:`trackcore.train.schedule`): a
:class:`~trackcore.train.RunCosineAnnealingLR` anneals over the trainer's ``max_epochs``, and a
torch ``CosineAnnealingLR`` whose ``T_max`` differs from ``max_epochs`` is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import lightning as L
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders.base import Grid, TrackBuilder
from trackcore.builders.leftover import SecondPass, taken_hits
from trackcore.builders.scan import ScanEvent, dm_efficiency_minus_fake_rate
from trackcore.candidates import TrackCandidates
from trackcore.metrics import EdgeMetrics, EventTruth, ParticlesOfInterest, TrackingEvaluation, evaluate_tracks
from trackcore.refinement.refine import HelixRefinement
from trackcore.train.builder_scan import CHECKPOINT_KEY, ValidationScan, saved_settings
from trackcore.train.schedule import fit_to_run

# the tracking metrics logged per validation/test epoch; ``<stage>/fom`` is logged beside them
TRACKING_KEYS = ("dm_efficiency", "dm_fake_rate", "dm_duplicate_rate", "lhc_efficiency", "perfect_efficiency")


@dataclass
class LossOutput:
    """The loss of one batch and its named terms (logged as ``<stage>/<name>``)."""

    loss: torch.Tensor
    terms: dict[str, torch.Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.loss.dim() != 0:
            raise ValueError(f"Expected a scalar loss (got shape {tuple(self.loss.shape)})")


@dataclass
class _EventResult:
    """What validation/test keeps of one event (``edges``/``tracking`` None when the stage has none)."""

    event_id: int
    edges: EdgeMetrics | None
    tracking: TrackingEvaluation | None


def second_pass_list(second_pass: Any) -> list[Any]:
    """A module's ``second_pass`` setting as the list of its passes, in order."""
    return list(second_pass) if isinstance(second_pass, list | tuple) else [second_pass]


def _built_by_cli() -> bool:
    """True while LightningCLI instantiates the module (it then provides the hyper-parameters)."""
    try:
        from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters
    except ImportError:  # a Lightning without it: hyper-parameters come from the signature
        return False
    return _given_hyperparameters.get() is not None


def gather_by_event(items: list[Any], key: Callable[[Any], int]) -> list[Any]:
    """Per-event items of every DDP rank (this rank's alone without DDP), one per event id, by id.

    Under DDP the distributed sampler pads the last batch by repeating events; keying by
    event id counts each event once (repeated events carry identical items).
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        parts: list[Any] = [None] * torch.distributed.get_world_size()
        torch.distributed.all_gather_object(parts, items)
        items = [item for part in parts for item in part]
    unique = {key(item): item for item in items}
    return [unique[k] for k in sorted(unique)]


def input_graph(event: Any, min_score: float | None = None) -> torch.Tensor:
    """The ``edge_index`` that a graph-construction stage wrote into the event.

    With ``min_score``, only the edges whose ``edge_score`` (written by ``ec``'s edge-scoring
    stage) is at least ``min_score`` are kept: gnn_tracking's recipe of running a GNN on the
    edge classifier's filtered graph.

    Shapes:
        return: (2, E) or (2, E_kept).

    Raises:
        ValueError: the event has no graph (the stage reads raw events instead of a stage's
            outputs), or ``min_score`` is given and the event has no ``edge_score``.
    """
    if getattr(event, "edge_index", None) is None:
        raise ValueError("the event has no 'edge_index': train on a graph-construction stage's outputs")
    if min_score is None:
        return event.edge_index
    score = getattr(event, "edge_score", None)
    if score is None:
        raise ValueError(f"an edge score cut ({min_score}) needs the event's 'edge_score': read an edge-scoring "
                         "stage's outputs (e.g. stages/<preset>/tracks of ec)")
    if score.shape[0] != event.edge_index.shape[1]:
        raise ValueError(f"edge_score has {score.shape[0]} entries for {event.edge_index.shape[1]} edges")
    return event.edge_index[:, score >= min_score]


def check_input_keys(input_keys: Sequence[str]) -> list[str]:
    """``input_keys`` as a list; it must start with ``x`` (whose ``r, phi, z`` give the edge geometry)."""
    if isinstance(input_keys, str) or not input_keys or input_keys[0] != "x":
        raise ValueError(f"input_keys must be a list starting with 'x' (got {input_keys!r})")
    return list(input_keys)


def node_features(event: Any, input_keys: Sequence[str]) -> torch.Tensor:
    """A model's node features: the event's per-hit tensors ``input_keys`` concatenated (e.g.
    ``[x, embedding]`` adds a metric-learning stage's embedding to the hit features).

    Shapes:
        return: (N_hits, sum of the tensors' widths), in the dtype of the first.

    Raises:
        ValueError: the event lacks one of the keys.
    """
    parts = []
    for key in input_keys:
        value = getattr(event, key, None)
        if value is None:
            raise ValueError(f"the event has no {key!r} (input_keys {list(input_keys)}); does the input stage "
                             "write it?")
        parts.append(value.unsqueeze(1) if value.dim() == 1 else value)
    return parts[0] if len(parts) == 1 else torch.cat([p.to(parts[0].dtype) for p in parts], dim=1)


def check_edge_score_cut(edge_score_cut: float | None) -> float | None:
    """``edge_score_cut`` (see :func:`input_graph`), checked to lie in [0, 1]."""
    if edge_score_cut is not None and not 0.0 <= edge_score_cut <= 1.0:
        raise ValueError(f"edge_score_cut must be in [0, 1] (got {edge_score_cut})")
    return edge_score_cut


def with_outputs(event: Any, outputs: dict[str, torch.Tensor]) -> Any:
    """A copy of ``event`` with a stage's outputs (:meth:`TrackingModule.infer`) attached, detached:
    what the next stage reads (``predict`` writes it; ``trackcore bench`` chains stages with it)."""
    event = event.clone()
    for key, value in outputs.items():
        event[key] = value.detach()
    return event


def batch_events(batch: Any) -> list[Any]:
    """The events of a (possibly batched) PyG batch."""
    return batch.to_data_list() if hasattr(batch, "to_data_list") and getattr(batch, "num_graphs", 1) > 1 else [batch]


class TrackingModule(L.LightningModule):
    """Base task module: injected model/optimizer/scheduler, loss logging, shared metrics.

    Args:
        model: the pure ``nn.Module`` of the stage.
        optimizer: a callable ``params -> Optimizer`` (LightningCLI builds it from YAML).
        scheduler: a callable ``optimizer -> LRScheduler``, or None; stepped per epoch. Its length
            follows the run: ``trackcore.train.RunCosineAnnealingLR`` gets ``T_max`` = the trainer's
            ``max_epochs``; a torch ``CosineAnnealingLR`` with another ``T_max`` is refused
            (:func:`~trackcore.train.schedule.fit_to_run`).
        min_pt: particles of interest for the tracking metrics: pT > min_pt (GeV).
        min_hits: ... and at least this many hits.
        builder: how tracks are built from :meth:`infer`'s outputs (a :mod:`trackcore.builders`
            class, by ``class_path``); required where ``BUILDS_TRACKS``, refused elsewhere.
        scan: a grid of the builder's settings (``{eps: [0.1, 0.2], min_samples: [1]}``, or a list
            of such) scanned at every validation epoch (:mod:`trackcore.train.builder_scan`): the
            best setting is the builder from then on and the checkpoint keeps it. None: the
            builder as configured.
        refine: the helix-fit refinement applied to every candidate set of :meth:`build_tracks`
            (validation, test, predict, bench); None builds without it. In YAML: ``refine: {}`` for
            the defaults, or ``refine: {tol_xy: 0.2, tol_rz: 0.7}``.
        second_pass: a second building pass (:class:`~trackcore.builders.SecondPass`: LeftoverComponents
            on edge scores, LeftoverClusters on cluster coordinates) over the hits the refined candidates leave,
            or a list of them, each over the hits that every candidate before it leaves; their candidates
            are refined alone and added. Needs ``refine``. None: one pass.
    """

    BUILDS_TRACKS: ClassVar[bool] = False
    """Whether the stage makes track candidates (then it takes a builder, and its checkpoints are
    chosen by the tracking figure of merit)."""

    def __init__(
        self,
        *,
        model: nn.Module,
        optimizer: OptimizerCallable = torch.optim.Adam,
        scheduler: LRSchedulerCallable | None = None,
        min_pt: float = 1.0,
        min_hits: int = 3,
        builder: TrackBuilder | None = None,
        scan: Grid | None = None,
        refine: HelixRefinement | None = None,
        second_pass: SecondPass | list[SecondPass] | None = None,
    ) -> None:
        super().__init__()
        # Under LightningCLI this records the YAML config (class paths included), so that
        # `Module.load_from_checkpoint(path)` rebuilds the model with no arguments. Built by hand,
        # the injected objects are not hyper-parameters: the checkpoint's state dict holds the weights.
        self.save_hyperparameters(ignore=[] if _built_by_cli() else ["model", "optimizer", "scheduler"])
        self.model = model
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.poi = ParticlesOfInterest(min_pt=min_pt, min_hits=min_hits)
        if self.BUILDS_TRACKS and builder is None:
            raise ValueError(f"{type(self).__name__} builds tracks: give it a builder (a trackcore.builders class)")
        if not self.BUILDS_TRACKS and (builder is not None or scan is not None):
            raise ValueError(f"{type(self).__name__} makes no tracks: it takes no builder and no scan")
        if builder is not None and not isinstance(builder, TrackBuilder):
            raise ValueError(f"builder must be a trackcore.builders.TrackBuilder (got {type(builder).__name__})")
        self.builder = builder
        self.builder_scan = None if scan is None else ValidationScan(builder, scan)
        self.refine = refine
        if second_pass is not None and (builder is None or refine is None):
            raise ValueError(f"{type(self).__name__}: second_pass needs a builder and refine (it adds refined "
                             "candidates to the first pass's refined ones)")
        for one in [] if second_pass is None else second_pass_list(second_pass):
            if not isinstance(one, SecondPass):
                raise ValueError("second_pass must be a trackcore.builders.SecondPass (e.g. LeftoverComponents, "
                                 f"LeftoverClusters) or a list of them (got {type(one).__name__})")
        self.second_pass = second_pass
        # (event id, edge metrics, tracking evaluation) of each event of the current val/test epoch.
        self._results: dict[str, list[_EventResult]] = {"val": [], "test": []}

    # ------------------------------------------------------------------ hooks for subclasses
    def training_loss(self, batch: Any) -> LossOutput:
        """Loss of one training batch."""
        raise NotImplementedError(f"{type(self).__name__} must implement training_loss")

    def validation_loss(self, batch: Any) -> LossOutput:
        """Loss of one validation batch; the training loss by default."""
        return self.training_loss(batch)

    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        """The stage's outputs for one event (saved by ``predict``), e.g. ``{"edge_score": ...}``."""
        raise NotImplementedError(f"{type(self).__name__} must implement infer")

    def build_tracks(self, event: Any, outputs: dict[str, torch.Tensor]) -> TrackCandidates | None:
        """Track candidates from :meth:`infer`'s outputs by the injected builder; None for stages
        that make no tracks."""
        return None if self.builder is None else self.builder(event, outputs)

    def refine_tracks(
        self, candidates: TrackCandidates | None, event: Any, groups: TrackCandidates | None = None,
        taken: Any | None = None, memo: dict | None = None,
    ) -> TrackCandidates | None:
        """``candidates`` after the helix-fit refinement (unchanged when ``refine`` is None); ``groups``:
        see :meth:`refine_groups`; ``taken``: hits other tracks hold, which no candidate gains; ``memo``:
        one dict per event that its refinements share (the refinement's search results)."""
        if self.refine is None or candidates is None:
            return candidates
        volume_id, layer_id = getattr(event, "volume_id", None), getattr(event, "layer_id", None)
        return self.refine(candidates, event.pos.cpu(), event.hit_id.cpu(),
                           None if volume_id is None else volume_id.cpu(), groups=groups,
                           layer_id=None if layer_id is None else layer_id.cpu(), taken=taken, memo=memo)

    def refine_groups(self, event: Any, outputs: dict[str, torch.Tensor]) -> TrackCandidates | None:
        """Which hits the model holds may share a track, for the refinement's regroup step (None: no such step)."""
        return None

    def tracks(
        self, event: Any, outputs: dict[str, torch.Tensor], builder: TrackBuilder | None = None,
        memo: dict | None = None,
    ) -> TrackCandidates | None:
        """The event's final track candidates: :meth:`build_tracks` (or ``builder``, another setting of
        it), then :meth:`refine_tracks`, then the second pass (:meth:`add_second_pass`); ``memo``: the
        search memo of this event's refinements (a new one when None; see :meth:`refine_tracks`)."""
        candidates = self.build_tracks(event, outputs) if builder is None else builder(event, outputs)
        if self.refine is None or candidates is None:
            return candidates
        memo = {} if memo is None else memo  # the passes' refinements search mostly the same free hits
        refined = self.refine_tracks(candidates, event, self.refine_groups(event, outputs), memo=memo)
        return self.add_second_pass(refined, event, outputs, memo)

    def add_second_pass(
        self, refined: TrackCandidates, event: Any, outputs: dict[str, torch.Tensor], memo: dict | None = None
    ) -> TrackCandidates:
        """``refined`` and the refined candidates of each ``second_pass`` in turn over the hits that
        the candidates so far leave (``refined`` alone without a second pass), joined as one set where the
        refinement sets ``join_passes``; ``memo``: see :meth:`refine_tracks`."""
        for one in [] if self.second_pass is None else second_pass_list(self.second_pass):
            taken = taken_hits(event.hit_id.cpu(), refined)
            extra = one(event, outputs, taken)
            if len(extra):
                refined = refined.append(self.refine_tracks(extra, event, taken=taken, memo=memo))
        if self.refine is not None and self.refine.join_passes:  # the passes' (and searches') candidates as one set
            volume_id = getattr(event, "volume_id", None)
            refined = self.refine.join(refined, event.pos.cpu(), event.hit_id.cpu(),
                                       None if volume_id is None else volume_id.cpu())
        return refined

    def target_hits(self, event: Any) -> torch.Tensor | None:
        """Hits of particles above the pT cut of the particles of interest (None: no cut).

        Shapes:
            return: (N_hits,) bool.
        """
        return self.poi.target_hits(event.pt)

    def evaluate_event_tracks(
        self, stage: str, event_id: int, event: Any, outputs: dict[str, torch.Tensor]
    ) -> TrackingEvaluation | None:
        """Tracking evaluation of one validation/test event: its :meth:`build_tracks` candidates
        against its truth (None for stages that make no tracks). A module may return None and set
        the event's ``tracking`` in ``self._results[stage]`` before the epoch ends (e.g. after a
        validation-time scan of its building parameters)."""
        if stage == "val" and self.builder_scan is not None:  # built at the epoch's end, at the chosen setting
            self.builder_scan.keep(event_id, event, outputs)
            return None
        candidates = self.tracks(event, outputs)
        return None if candidates is None else evaluate_tracks(candidates, EventTruth.from_data(event), self.poi)

    def set_val_tracking(self, tracking: dict[int, TrackingEvaluation]) -> None:
        """Give this validation epoch's events the tracking evaluations that a validation-time scan
        chose (by event id), for events whose :meth:`evaluate_event_tracks` returned None."""
        for result in self._results["val"]:
            result.tracking = tracking[result.event_id]

    def edge_metrics(self, event: Any, outputs: dict[str, torch.Tensor]) -> EdgeMetrics | None:
        """Edge efficiency/purity of the stage's graph or scores for one event; None when not relevant."""
        return None

    def step_generator(self, offset: int = 0) -> torch.Generator:
        """A CPU random source seeded by the global step (plus ``offset``, e.g. the event's index
        in the batch), so that a run resumed from a checkpoint draws the same random pairs."""
        return torch.Generator().manual_seed(1_000_003 * (self.global_step + 1) + offset)

    # ------------------------------------------------------------------ Lightning plumbing
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)

    @classmethod
    def builds_tracks(cls) -> bool:
        """Whether this module's validation builds and scores tracks (its ``BUILDS_TRACKS``)."""
        return cls.BUILDS_TRACKS

    def trainer_max_epochs(self) -> int | None:
        """The trainer's ``max_epochs`` (None when no trainer drives the module)."""
        return None if self._trainer is None else self._trainer.max_epochs

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        scheduler = self.scheduler_factory(optimizer)
        fit_to_run(scheduler, self.trainer_max_epochs())
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler}}

    def _log_loss(self, stage: str, out: LossOutput, batch_size: int) -> None:
        on_step = stage == "train"
        self.log(f"{stage}/loss", out.loss, on_step=on_step, on_epoch=True, prog_bar=True, batch_size=batch_size)
        for name, value in out.terms.items():
            self.log(f"{stage}/{name}", value, on_step=False, on_epoch=True, batch_size=batch_size)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        out = self.training_loss(batch)
        if not torch.isfinite(out.loss):
            raise FloatingPointError(f"non-finite training loss at step {self.global_step}: {out.loss.item()}")
        self._log_loss("train", out, getattr(batch, "num_graphs", 1))
        return out.loss

    def _evaluate_step(self, stage: str, batch: Any) -> None:
        self._log_loss(stage, self.validation_loss(batch), getattr(batch, "num_graphs", 1))
        results = self._results[stage]
        for event in batch_events(batch):
            # hand-made events without an id get distinct negative keys
            event_id = int(event.event_id) if "event_id" in event else -1 - len(results)
            outputs = self.infer(event)
            evaluation = self.evaluate_event_tracks(stage, event_id, event, outputs)
            results.append(_EventResult(event_id, self.edge_metrics(event, outputs), evaluation))

    def _evaluate_epoch_end(self, stage: str) -> None:
        # Every rank pools the results of all ranks' events (counts summed, then divided), so the
        # logged values are exact and identical on every rank: no sync_dist averaging of rates.
        results = self._gather_events(self._results[stage])
        self._results[stage] = []
        edge_counts = [r.edges for r in results if r.edges is not None]
        evaluations = [r.tracking for r in results if r.tracking is not None]
        if edge_counts:
            pooled = EdgeMetrics.combine(edge_counts)
            self.log(f"{stage}/edge_efficiency", pooled.efficiency, prog_bar=True)
            self.log(f"{stage}/edge_purity", pooled.purity, prog_bar=True)
            self.log(f"{stage}/edge_auc", pooled.auc)
            self.log(f"{stage}/edges_per_event", pooled.n_edges / len(edge_counts))
        if evaluations:
            self.log_tracking_summary(stage, TrackingEvaluation.concat(evaluations).summary())

    def log_tracking_summary(self, stage: str, summary: dict[str, float]) -> None:
        """Log an epoch's pooled tracking metrics and ``<stage>/fom`` = DM efficiency - DM fake rate.

        NaN (no particle of interest, no candidate) is logged as such, never as 0; the checkpoint
        ranks a NaN figure of merit below every number, so an epoch without tracks is never kept
        over one with tracks.
        """
        for key in TRACKING_KEYS:
            self.log(f"{stage}/{key}", float(summary[key]), prog_bar=key == "dm_efficiency")
        self.log(f"{stage}/fom", float(dm_efficiency_minus_fake_rate(summary)), prog_bar=True)

    @staticmethod
    def _gather_events(results: list[_EventResult]) -> list[_EventResult]:
        """This epoch's per-event results of every rank, one per event id, in event order."""
        return gather_by_event(results, key=lambda r: r.event_id)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._evaluate_step("val", batch)

    def on_validation_epoch_end(self) -> None:
        if self.builder_scan is not None and self.builder_scan.has_events():
            outcome = self.builder_scan.run(lambda items: gather_by_event(items, key=lambda item: item[0]),
                                            None if self.refine is None else self._scan_refinement, self.poi,
                                            final=None if self.second_pass is None else self._scan_final)
            self.builder = outcome.builder or self.builder
            for name, value in self.builder.settings().items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    self.log(f"val/builder/{name}", float(value))
            self.set_val_tracking(outcome.evaluations)
        self._evaluate_epoch_end("val")

    def _scan_refinement(self, item: ScanEvent) -> Callable[[TrackCandidates], TrackCandidates]:
        """The refinement of one scanned event's candidate sets (the model's groups computed once; the
        second passes run on the chosen setting only, :meth:`_scan_final`)."""
        groups = self.refine_groups(item.event, item.outputs)
        # the settings' refinements of one event search mostly the same free hits: one memo, the event's
        return lambda candidates: self.refine_tracks(candidates, item.event, groups, memo=item.memo)

    def _scan_final(self, item: ScanEvent, builder: TrackBuilder) -> TrackCandidates:
        """The final tracks of one scanned event at the setting the scan chose (its searches reuse the
        event's memo, which the scan's refinements filled)."""
        return self.tracks(item.event, item.outputs, builder, memo=item.memo)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.builder is not None:
            checkpoint[CHECKPOINT_KEY] = self.builder.record()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # The settings a scan chose come back with the weights; without a scan the configured ones stand.
        if self.builder_scan is None:
            return
        saved = saved_settings(checkpoint, self.builder_scan.configured)
        if saved:
            self.builder = self.builder_scan.configured.with_settings(**saved)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._evaluate_step("test", batch)

    def on_test_epoch_end(self) -> None:
        self._evaluate_epoch_end("test")

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> list[Any]:
        """Per-event outputs: each event's Data with :meth:`infer`'s tensors (and candidates) attached."""
        results = []
        for event in batch_events(batch):
            outputs = self.infer(event)
            event = with_outputs(event, outputs)
            candidates = self.tracks(event, outputs)
            if candidates is not None:
                event.track_hit_id = torch.from_numpy(candidates.hit_id)
                event.track_id = torch.from_numpy(candidates.track_id)
            results.append(event)
        return results
