"""The task-module base of every tracker that builds tracks by clustering a learned space.

OC and EggNet (and HGNN's embedding variant) map hits to coordinates (and OC a condensation
strength ``beta``); tracks are then built by one of the two inference modes of
:mod:`trackcore.builders`:

- ``"dbscan"``: DBSCAN on the coordinates (gnn_tracking's and EggNet's default);
- ``"condensation"``: condensation points (Kieseler): seeds of ``beta > t_beta`` in descending
  ``beta`` take the free hits within ``t_d`` (needs ``beta``).

The clustering scale changes while the model trains, so a fixed ``eps`` misjudges it (on the
small preset OC read DM efficiency 0.73 after two epochs and 0.32 after six at eps = 0.3). With
``scan_eps``/``scan_min_samples`` (and ``scan_t_beta``/``scan_t_d``) given, every validation
epoch scans them on the validation events, as gnn_tracking does: the best setting (DM efficiency
- DM fake rate) becomes the module's ``eps``/``min_samples`` (``t_beta``/``t_d``), the
validation metrics are those of the best setting, and the checkpoint keeps it, so
``trackcore test/predict --ckpt_path`` use what validation chose. The same figure of merit, logged
as ``val/fom``, then chooses the run's best epoch (:mod:`trackcore.train.checkpoint`). A builder not in use that has
a grid is scanned too and logged as ``val/<builder>/...``. Without grids, the configured values
are used as given. ``trackcore scan`` redoes a scan on a predicted stage folder, with timings.
With ``refine`` (the helix-fit refinement), every grid point is judged after refinement, as test
and predict build the tracks: the best clustering then differs (EggNet on the real pT > 1 GeV
validation events: raw DBSCAN is best at eps 0.2, DM 87.1%; refined, eps 0.3 gives 97.7% where
eps 0.2 gives 95.3%). A refinement costs ~0.1-0.5 s per event, so keep refined grids short; the
builder not in use is scanned without refinement.

A subclass's :meth:`~trackcore.train.TrackingModule.infer` returns ``{"coords": (N, D)}`` and,
for condensation points, ``"beta": (N,)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, Literal

import numpy as np
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.builders import (
    NoFiniteObjectiveError,
    condensation_clustering,
    dbscan,
    scan_condensation,
    scan_dbscan,
)
from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth, TrackingEvaluation, evaluate_tracks
from trackcore.refinement.refine import HelixRefinement
from trackcore.train.module import TrackingModule, gather_by_event

BUILDERS = ("dbscan", "condensation")
# checkpoint key of the building parameters ("oc_building" in checkpoints written before EggNet)
CHECKPOINT_KEY = "building"
_LEGACY_CHECKPOINT_KEYS = ("oc_building",)


class ClusteringTrackingModule(TrackingModule):
    """Track building by clustering the ``coords`` (and ``beta``) that :meth:`infer` returns.

    Args:
        model, optimizer, scheduler, min_pt, min_hits, refine: see :class:`~trackcore.train.TrackingModule`.
        builder: ``"dbscan"`` or ``"condensation"``.
        eps, min_samples: DBSCAN's radius and core-point count (``builder="dbscan"``).
        t_beta, t_d: seed threshold and capture radius (``builder="condensation"``).
        min_track_hits: smaller candidates are dropped.
        scan_eps, scan_min_samples: DBSCAN grid scanned at every validation epoch (both or neither).
        scan_t_beta, scan_t_d: condensation-point grid scanned likewise (both or neither).
        has_beta: whether the model outputs ``beta``; without it only DBSCAN is possible.
    """

    def __init__(
        self,
        *,
        model: nn.Module,
        optimizer: OptimizerCallable = torch.optim.Adam,
        scheduler: LRSchedulerCallable | None = None,
        min_pt: float = 1.0,
        min_hits: int = 3,
        builder: Literal["dbscan", "condensation"] = "dbscan",
        eps: float = 0.3,
        min_samples: int = 2,
        t_beta: float = 0.5,
        t_d: float = 0.5,
        min_track_hits: int = 3,
        scan_eps: Sequence[float] | None = None,
        scan_min_samples: Sequence[int] | None = None,
        scan_t_beta: Sequence[float] | None = None,
        scan_t_d: Sequence[float] | None = None,
        has_beta: bool = True,
        refine: HelixRefinement | None = None,
    ) -> None:
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits,
                         refine=refine)
        if builder not in BUILDERS:
            raise ValueError(f"builder must be one of {BUILDERS} (got {builder!r})")
        for name, value in (("eps", eps), ("t_d", t_d)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0 (got {value})")
        if not 0.0 <= t_beta < 1.0:
            raise ValueError(f"t_beta must be in [0, 1) (got {t_beta})")
        if not has_beta and (builder == "condensation" or scan_t_beta is not None or scan_t_d is not None):
            raise ValueError("condensation points need a beta: this model outputs none, use builder 'dbscan' "
                             "and no scan_t_beta/scan_t_d")
        self.builder = builder
        self.eps, self.min_samples, self.t_beta, self.t_d = eps, min_samples, t_beta, t_d
        self.min_track_hits = min_track_hits
        self.has_beta = has_beta
        self.scan_grids: dict[str, tuple[list[float], list[float]]] = {}
        for name, (a, b), (grid_a, grid_b) in (
            ("dbscan", ("scan_eps", "scan_min_samples"), (scan_eps, scan_min_samples)),
            ("condensation", ("scan_t_beta", "scan_t_d"), (scan_t_beta, scan_t_d)),
        ):
            if (grid_a is None) != (grid_b is None):
                raise ValueError(f"give both {a} and {b}, or neither")
            if grid_a is not None:
                if not len(grid_a) or not len(grid_b):
                    raise ValueError(f"{a} and {b} must not be empty")
                self.scan_grids[name] = (list(grid_a), list(grid_b))
        # (event id, coords, beta or None, truth, event) of this validation epoch's events, for the scans;
        # the event (on the CPU) gives the refinement its hit positions
        self._scan_inputs: list[tuple[int, np.ndarray, np.ndarray | None, EventTruth, Any]] = []

    # ------------------------------------------------------------------ building
    def build_tracks(self, event: Any, outputs: dict[str, torch.Tensor]) -> TrackCandidates:
        beta = outputs.get("beta")
        return self._build(outputs["coords"].detach(), None if beta is None else beta.detach(), event.hit_id)

    def _build(self, coords: Any, beta: Any, hit_id: Any) -> TrackCandidates:
        if self.builder == "dbscan":
            return dbscan(coords, eps=self.eps, min_samples=self.min_samples, hit_id=hit_id,
                          min_hits=self.min_track_hits)
        if beta is None:
            raise ValueError("builder 'condensation' needs the model's beta; infer() returned none")
        return condensation_clustering(coords, beta, t_beta=self.t_beta, t_d=self.t_d, hit_id=hit_id,
                                       min_hits=self.min_track_hits)

    @property
    def building_params(self) -> dict[str, float]:
        """The current clustering parameters of both builders."""
        return {"eps": self.eps, "min_samples": self.min_samples, "t_beta": self.t_beta, "t_d": self.t_d}

    # ------------------------------------------------------------------ validation-time scans
    def evaluate_event_tracks(
        self, stage: str, event_id: int, event: Any, outputs: dict[str, torch.Tensor]
    ) -> TrackingEvaluation | None:
        if stage != "val" or self.builder not in self.scan_grids:
            if stage == "val" and self.scan_grids:  # only the other builder is scanned
                self._keep_for_scan(event_id, event, outputs)
            return super().evaluate_event_tracks(stage, event_id, event, outputs)
        # Built once, at the end of the epoch, at the setting the scan chooses.
        self._keep_for_scan(event_id, event, outputs)
        return None

    def _keep_for_scan(self, event_id: int, event: Any, outputs: dict[str, torch.Tensor]) -> None:
        beta = outputs.get("beta")
        self._scan_inputs.append((
            event_id,
            outputs["coords"].detach().float().cpu().numpy(),
            None if beta is None else beta.detach().float().cpu().numpy(),
            EventTruth.from_data(event),
            event.cpu() if self.refine is not None else None,
        ))

    def on_validation_epoch_end(self) -> None:
        if self.scan_grids and self._scan_inputs:
            self._scan_validation()
        super().on_validation_epoch_end()

    def _scan_validation(self) -> None:
        inputs = gather_by_event(self._scan_inputs, key=lambda item: item[0])
        self._scan_inputs = []
        post = None if self.refine is None else [partial(self.refine_tracks, event=event) for *_, event in inputs]
        for builder, (grid_a, grid_b) in self.scan_grids.items():
            try:
                if builder == "dbscan":
                    scan = scan_dbscan([(x, truth) for _, x, _, truth, _ in inputs], grid_a,
                                       [int(m) for m in grid_b], min_hits=self.min_track_hits, poi=self.poi,
                                       postprocess=post if builder == self.builder else None)
                    self.eps, self.min_samples = scan.best_eps, scan.best_min_samples
                else:
                    scan = scan_condensation([(x, beta, truth) for _, x, beta, truth, _ in inputs], grid_a, grid_b,
                                             min_hits=self.min_track_hits, poi=self.poi,
                                             postprocess=post if builder == self.builder else None)
                    self.t_beta, self.t_d = scan.best_params["t_beta"], scan.best_params["t_d"]
            except NoFiniteObjectiveError:
                # No setting made a single candidate (early training, e.g. an untrained embedding is
                # one blob that the refinement's quality cut drops): keep the current setting and
                # record the epoch as what it is, no track at all.
                if builder == self.builder:
                    self.set_val_tracking({eid: evaluate_tracks(TrackCandidates.empty(), truth, self.poi)
                                           for eid, _, _, truth, _ in inputs})
                continue
            for name, value in scan.best_params.items():
                self.log(f"val/{builder}/{name}", float(value))
            for key in ("dm_efficiency", "dm_fake_rate", "dm_duplicate_rate"):
                self.log(f"val/{builder}/{key}", float(scan.best[key]))
            if builder == self.builder:
                # The base's validation metrics: the builder in use, at the setting just chosen.
                self.set_val_tracking({eid: ev for (eid, *_), ev in zip(inputs, scan.best_evaluations, strict=True)})

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = self.building_params

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Scanned values come back with the weights; without scans the configured values stand.
        saved = next((checkpoint[k] for k in (CHECKPOINT_KEY, *_LEGACY_CHECKPOINT_KEYS) if k in checkpoint), None)
        if saved is None:
            return
        if "dbscan" in self.scan_grids:
            self.eps, self.min_samples = float(saved["eps"]), int(saved["min_samples"])
        if "condensation" in self.scan_grids:
            self.t_beta, self.t_d = float(saved["t_beta"]), float(saved["t_d"])
