"""The validation-time builder scan: every validation epoch chooses the builder's settings.

A learned space changes while the model trains, so fixed building settings misjudge it (a
DBSCAN radius right after two epochs is wrong after six). With a ``scan`` grid given, a
:class:`~trackcore.train.TrackingModule` keeps each validation event's outputs, and at the end
of the epoch :class:`ValidationScan` runs :func:`~trackcore.builders.scan.scan_builder` on
them, each setting judged after the refinement as test and predict build tracks (the module's
second passes, if any, run on the chosen setting only). The best setting (DM efficiency - DM fake
rate) becomes the module's builder, the epoch's validation metrics are those of that setting's
final tracks, and the checkpoint keeps it (``checkpoint["builder"]``), so ``trackcore
test/predict --ckpt_path`` use what validation chose.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trackcore.builders.base import Grid, TrackBuilder, grid_points
from trackcore.builders.scan import BuilderScan, NoFiniteObjectiveError, ScanEvent, scan_builder
from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth, ParticlesOfInterest, TrackingEvaluation, evaluate_tracks

CHECKPOINT_KEY = "builder"
LEGACY_CHECKPOINT_KEYS = ("building", "oc_building")
"""Where checkpoints written before the builders were objects keep the chosen settings."""


@dataclass
class ScanOutcome:
    """One epoch's scan: the chosen builder and the scan (both None when no setting made a track)
    and the chosen setting's evaluation of each event, by event id."""

    builder: TrackBuilder | None
    scan: BuilderScan | None
    evaluations: dict[int, TrackingEvaluation]


class ValidationScan:
    """Keeps the validation events' outputs and scans ``grid`` on them at the end of the epoch.

    Args:
        configured: the builder as configured; every grid point changes its settings (not
            those an earlier epoch chose).
        grid: the settings to try (:data:`~trackcore.builders.base.Grid`), checked here.

    Raises:
        ValueError: a grid setting the builder lacks or a bad value.
    """

    def __init__(self, configured: TrackBuilder, grid: Grid) -> None:
        for point in grid_points(grid):
            configured.with_settings(**point)
        self.configured, self.grid = configured, grid
        self._events: list[tuple[int, ScanEvent]] = []

    def keep(self, event_id: int, event: Any, outputs: Mapping[str, Any]) -> None:
        """Keep one validation event (on the CPU) with its outputs and truth."""
        kept = {key: value.detach().cpu() if hasattr(value, "detach") else value for key, value in outputs.items()}
        self._events.append((event_id, ScanEvent(event.cpu(), kept, EventTruth.from_data(event))))

    def has_events(self) -> bool:
        return bool(self._events)

    def run(
        self,
        gather: Callable[[list[tuple[int, ScanEvent]]], list[tuple[int, ScanEvent]]],
        refinement: Callable[[ScanEvent], Callable[[TrackCandidates], TrackCandidates]] | None,
        poi: ParticlesOfInterest,
        final: Callable[[ScanEvent, TrackBuilder], TrackCandidates] | None = None,
    ) -> ScanOutcome:
        """Scan the kept events (pooled over ranks by ``gather``), then forget them.

        ``refinement(event)`` gives the function that post-processes each of the event's candidate
        sets (None: the builder's output is judged). ``final(event, builder)``, given, makes the
        chosen setting's final tracks (e.g. with a module's second passes, which the scan leaves
        out: they cost several times the refinement on a poorly trained model's blobs), and the
        events' evaluations are of those. When no setting makes a single candidate
        (early training: an untrained embedding is one blob that the refinement drops), nothing is
        chosen (the module keeps its builder) and every event is recorded as what it is, no track at all.
        """
        events = gather(self._events)
        self._events = []
        post = None if refinement is None else [refinement(item) for _, item in events]
        try:
            scan = scan_builder(self.configured, [item for _, item in events], self.grid, poi=poi, postprocess=post)
        except NoFiniteObjectiveError:
            return ScanOutcome(None, None, {eid: evaluate_tracks(TrackCandidates.empty(), item.truth, poi)
                                                       for eid, item in events})
        chosen = self.configured.with_settings(**scan.best_params)
        if final is not None:
            return ScanOutcome(chosen, scan, {eid: evaluate_tracks(final(item, chosen), item.truth, poi)
                                              for eid, item in events})
        return ScanOutcome(chosen, scan, {eid: ev for (eid, _), ev in zip(events, scan.best_evaluations, strict=True)})


def saved_settings(checkpoint: Mapping[str, Any], builder: TrackBuilder) -> dict[str, Any] | None:
    """The builder settings a checkpoint keeps, restricted to those ``builder`` has (None: none kept).

    Checkpoints written before builders were objects keep them under ``"building"`` (OC, EggNet:
    ``eps``, ``min_samples``, ``t_beta``, ``t_d``; HGNN: ``threshold`` and ``argmax``, which
    becomes ``method``).
    """
    saved = checkpoint.get(CHECKPOINT_KEY)
    if saved is not None:
        saved = saved.get("settings", {})
    else:
        saved = next((dict(checkpoint[k]) for k in LEGACY_CHECKPOINT_KEYS if k in checkpoint), None)
        if saved is None:
            return None
        if "argmax" in saved:
            saved["method"] = "argmax" if saved.pop("argmax") else "threshold"
    casts = {"int": int, "float": float}  # by the builder's field annotation, not by its configured value's type
    kinds = {f.name: str(f.type) for f in dataclasses.fields(builder)}  # type: ignore[arg-type]
    return {key: casts[kinds[key]](value) if kinds[key] in casts else value
            for key, value in saved.items() if key in kinds}
