"""The object-condensation task module: OC loss in training, DBSCAN or condensation points at inference.

The model (:class:`oc.model.CondensationGNN`) maps each hit of a graph-construction stage's
graph (``ec``'s metric-learning output) to a condensation strength ``beta`` and cluster
coordinates. Training minimises :func:`trackcore.losses.condensation_loss`; tracks are built
by one of the two inference modes of :mod:`trackcore.build`:

- ``"dbscan"``: DBSCAN on the cluster coordinates (gnn_tracking's default);
- ``"condensation"``: condensation points (Kieseler): seeds of ``beta > t_beta`` in descending
  ``beta`` take the free hits within ``t_d``.

The clustering scale changes while the model trains, so a fixed ``eps`` misjudges it (on the
small preset a fixed eps = 0.3 read DM efficiency 0.73 after two epochs and 0.32 after six).
With ``scan_eps``/``scan_min_samples`` (and ``scan_t_beta``/``scan_t_d``) given, every
validation epoch scans them on the validation events, as gnn_tracking does: the best setting
(DM efficiency - DM fake rate) becomes the module's ``eps``/``min_samples`` (``t_beta``/``t_d``),
the validation metrics are those of the best setting, and the checkpoint keeps it, so
``trackcore test/predict --ckpt_path`` use what validation chose. The builder not in use is
scanned too and logged as ``val/<builder>/...`` (both inference modes followed during training).
Without scan grids, the configured values are used as given. ``trackcore scan`` redoes a scan
on a predicted stage folder, with timings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from lightning.pytorch.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from trackcore.build import condensation_clustering, dbscan, scan_condensation, scan_dbscan
from trackcore.build.candidates import TrackCandidates
from trackcore.losses import condensation_loss, objects_of_interest
from trackcore.metrics import EventTruth, TrackingEvaluation
from trackcore.train import LossOutput, TrackingModule, batch_events, gather_by_event, input_graph

BUILDERS = ("dbscan", "condensation")


class ObjectCondensation(TrackingModule):
    """Task module of the object-condensation tracker.

    Args:
        model: a module ``(x, edge_index) -> CondensationOutput`` (beta (N,), coords (N, D)).
        optimizer, scheduler, min_pt, min_hits: see :class:`~trackcore.train.TrackingModule`
            (``min_pt``/``min_hits`` define the particles of interest of the metrics).
        q_min, attractive_weight, repulsive_weight, coward_weight, noise_weight: see
            :func:`trackcore.losses.condensation_loss`.
        loss_implementation: ``"dense"`` (hits x objects) or ``"radius"`` (large events).
        loss_max_num_neighbors: neighbour cap of the ``"radius"`` implementation.
        loss_normalization: ``"pairs"`` (mean over pairs, gnn_tracking) or ``"hits"`` (the paper's
            1/N, which lets the repulsion outweigh the attraction ~K times).
        object_min_pt, object_max_abs_eta, object_min_hits: the objects of the loss (the other
            particles' hits are only repelled); see :func:`trackcore.losses.objects_of_interest`.
        builder: ``"dbscan"`` or ``"condensation"``.
        eps, min_samples: DBSCAN's radius and core-point count (``builder="dbscan"``).
        t_beta, t_d: seed threshold and capture radius (``builder="condensation"``).
        min_track_hits: smaller candidates are dropped.
        scan_eps, scan_min_samples: DBSCAN grid scanned at every validation epoch (both or neither).
        scan_t_beta, scan_t_d: condensation-point grid scanned likewise (both or neither).
        input_keys: the per-hit tensors concatenated as the model's node features, ``x`` first
            (its ``r, phi, z`` give the edge geometry); e.g. ``[x, embedding]`` adds the
            metric-learning stage's embedding (then ``node_in`` = 4 + its size).
    """

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
        input_keys: Sequence[str] = ("x",),
    ) -> None:
        super().__init__(model=model, optimizer=optimizer, scheduler=scheduler, min_pt=min_pt, min_hits=min_hits)
        if builder not in BUILDERS:
            raise ValueError(f"builder must be one of {BUILDERS} (got {builder!r})")
        if loss_implementation not in ("dense", "radius"):
            raise ValueError(f"loss_implementation must be 'dense' or 'radius' (got {loss_implementation!r})")
        for name, value in (("eps", eps), ("t_d", t_d)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0 (got {value})")
        if not 0.0 <= t_beta < 1.0:
            raise ValueError(f"t_beta must be in [0, 1) (got {t_beta})")
        self.loss_options = dict(
            q_min=q_min, attractive_weight=attractive_weight, repulsive_weight=repulsive_weight,
            coward_weight=coward_weight, noise_weight=noise_weight, implementation=loss_implementation,
            max_num_neighbors=loss_max_num_neighbors, normalization=loss_normalization,
        )
        self.object_options = dict(min_pt=object_min_pt, max_abs_eta=object_max_abs_eta, min_hits=object_min_hits)
        self.builder = builder
        self.eps, self.min_samples, self.t_beta, self.t_d = eps, min_samples, t_beta, t_d
        self.min_track_hits = min_track_hits
        if not input_keys or input_keys[0] != "x":
            raise ValueError(f"input_keys must start with 'x' (got {list(input_keys)})")
        self.input_keys = list(input_keys)
        self.scan_grids: dict[str, tuple[list[float], list[float]]] = {}
        for builder, (a, b), (grid_a, grid_b) in (
            ("dbscan", ("scan_eps", "scan_min_samples"), (scan_eps, scan_min_samples)),
            ("condensation", ("scan_t_beta", "scan_t_d"), (scan_t_beta, scan_t_d)),
        ):
            if (grid_a is None) != (grid_b is None):
                raise ValueError(f"give both {a} and {b}, or neither")
            if grid_a is not None:
                if not len(grid_a) or not len(grid_b):
                    raise ValueError(f"{a} and {b} must not be empty")
                self.scan_grids[builder] = (list(grid_a), list(grid_b))
        # (event id, coords, beta, truth) of this validation epoch's events, for the scans
        self._scan_inputs: list[tuple[int, np.ndarray, np.ndarray, EventTruth]] = []

    def _features(self, event: Any) -> torch.Tensor:
        """The model's node features: ``input_keys`` concatenated.

        Shapes:
            return: (N_hits, sum of the tensors' widths).
        """
        parts = []
        for key in self.input_keys:
            value = getattr(event, key, None)
            if value is None:
                raise ValueError(f"the event has no {key!r} (input_keys {self.input_keys}); does the input stage "
                                 "write it?")
            parts.append(value.unsqueeze(1) if value.dim() == 1 else value)
        return parts[0] if len(parts) == 1 else torch.cat([p.to(parts[0].dtype) for p in parts], dim=1)

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
            out = self.model(self._features(event), input_graph(event))
            losses.append(condensation_loss(out.beta, out.coords, event.particle_id,
                                            interest_j=self._objects(event), **self.loss_options))
        terms = {name: torch.stack([getattr(lo, name) for lo in losses]).mean() for name in losses[0].terms()}
        terms["objects"] = torch.tensor(float(sum(lo.n_objects for lo in losses)) / len(losses))
        return LossOutput(torch.stack([lo.total for lo in losses]).mean(), terms)

    def infer(self, event: Any) -> dict[str, torch.Tensor]:
        out = self.model(self._features(event), input_graph(event))
        return {"beta": out.beta, "coords": out.coords}

    def build_tracks(self, event: Any, outputs: dict[str, torch.Tensor]) -> TrackCandidates:
        return self._build(outputs["coords"].detach(), outputs["beta"].detach(), event.hit_id)

    def _build(self, coords: Any, beta: Any, hit_id: Any) -> TrackCandidates:
        if self.builder == "dbscan":
            return dbscan(coords, eps=self.eps, min_samples=self.min_samples, hit_id=hit_id,
                          min_hits=self.min_track_hits)
        return condensation_clustering(coords, beta, t_beta=self.t_beta, t_d=self.t_d, hit_id=hit_id,
                                       min_hits=self.min_track_hits)

    # ------------------------------------------------------------------ validation-time scans
    @property
    def building_params(self) -> dict[str, float]:
        """The current clustering parameters of both builders."""
        return {"eps": self.eps, "min_samples": self.min_samples, "t_beta": self.t_beta, "t_d": self.t_d}

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
        self._scan_inputs.append((event_id, outputs["coords"].detach().float().cpu().numpy(),
                                  outputs["beta"].detach().float().cpu().numpy(), EventTruth.from_data(event)))

    def on_validation_epoch_end(self) -> None:
        if self.scan_grids and self._scan_inputs:
            self._scan_validation()
        super().on_validation_epoch_end()

    def _scan_validation(self) -> None:
        inputs = gather_by_event(self._scan_inputs, key=lambda item: item[0])
        self._scan_inputs = []
        for builder, (grid_a, grid_b) in self.scan_grids.items():
            if builder == "dbscan":
                scan = scan_dbscan([(x, truth) for _, x, _, truth in inputs], grid_a, [int(m) for m in grid_b],
                                   min_hits=self.min_track_hits, poi=self.poi)
                self.eps, self.min_samples = scan.best_eps, scan.best_min_samples
            else:
                scan = scan_condensation([(x, beta, truth) for _, x, beta, truth in inputs], grid_a, grid_b,
                                         min_hits=self.min_track_hits, poi=self.poi)
                self.t_beta, self.t_d = scan.best_params["t_beta"], scan.best_params["t_d"]
            for name, value in scan.best_params.items():
                self.log(f"val/{builder}/{name}", float(value))
            for key in ("dm_efficiency", "dm_fake_rate", "dm_duplicate_rate"):
                self.log(f"val/{builder}/{key}", float(scan.best[key]))
            if builder == self.builder:
                # The base's validation metrics: the builder in use, at the setting just chosen.
                tracking = {eid: ev for (eid, *_), ev in zip(inputs, scan.best_evaluations, strict=True)}
                for result in self._results["val"]:
                    result.tracking = tracking[result.event_id]

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["oc_building"] = self.building_params

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Scanned values come back with the weights; without scans the configured values stand.
        saved = checkpoint.get("oc_building")
        if saved is None:
            return
        if "dbscan" in self.scan_grids:
            self.eps, self.min_samples = float(saved["eps"]), int(saved["min_samples"])
        if "condensation" in self.scan_grids:
            self.t_beta, self.t_d = float(saved["t_beta"]), float(saved["t_d"])
