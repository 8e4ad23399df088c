"""Score simulated events as the real events are scored: with the real events' partial truth.

The real events of ``../shared/data/trackml_real_partial`` label only some hits (their
``README``): pixel-barrel (volume 8) hits of particles with pT > 0.5 GeV, pixel end-cap (7, 9)
and strip-barrel (13, 17) hits of particles with pT > 1 GeV, and **at most one hit per
(particle, layer)**. Every other hit is unknown. Unknown hits still count in a candidate's size,
so a candidate that rightly holds both hits of a particle on an overlapping layer loses purity
on the real events, and not on simulated ones, where every hit is labelled. Simulated and real
efficiencies are comparable only under the same labelling: :func:`as_partial_truth` gives a
simulated (fully labelled) processed event the real events' labelling. Which of a particle's hits
on one layer keeps its label is drawn at random (seeded by the event id), since the rebuilt real
labels do not say which one they chose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from trackcore.data.processing import count_particle_hits
from trackcore.metrics.stage_report import StageReport, evaluate_stage_events, load_stage_event, stage_event_files
from trackcore.metrics.truth import ParticlesOfInterest, event_truth_kind

PARTIAL_TRUTH_VOLUMES: dict[int, float] = {8: 0.5, 7: 1.0, 9: 1.0, 13: 1.0, 17: 1.0}
"""Volume -> the pT (GeV) above which the real partial truth labels a particle's hits there."""


def as_partial_truth(event: Any, seed: int = 0) -> Any:
    """A copy of a fully labelled processed event, labelled as the real events' partial truth.

    Hits the partial truth would not label get ``particle_id`` 0 and ``labelled`` False (unknown,
    not noise); ``particle_table_nhits`` counts the labelled hits; ``truth_kind`` becomes
    ``"partial"``. Nothing else changes: the tracker's input and candidates are the same.

    Shapes:
        event.particle_id, event.pt, event.volume_id, event.layer_id: (N,); particle tables: (P,).

    Raises:
        ValueError: the event is not fully labelled (already partial: nothing to emulate).
    """
    kind = event_truth_kind(event)
    if kind != "full":
        raise ValueError(f"event {int(event.event_id)}: its truth is {kind!r}, not full: "
                         "only a fully labelled event can be given the real events' partial labelling")
    pid = event.particle_id.numpy()
    pt = event.pt.numpy()
    vol = event.volume_id.numpy()
    layer = event.layer_id.numpy()
    threshold = np.full(len(pid), np.inf)
    for volume, cut in PARTIAL_TRUTH_VOLUMES.items():
        threshold[vol == volume] = cut
    with np.errstate(invalid="ignore"):
        candidates = np.flatnonzero((pid != 0) & (pt > threshold))
    rng = np.random.default_rng([seed, int(event.event_id)])
    shuffled = candidates[rng.permutation(len(candidates))]
    _, first = np.unique(np.stack([pid[shuffled], vol[shuffled], layer[shuffled]]), axis=1, return_index=True)
    labelled = np.zeros(len(pid), dtype=bool)
    labelled[shuffled[first]] = True
    out = event.clone()
    new_pid = np.where(labelled, pid, 0)
    out.particle_id = torch.from_numpy(new_pid.astype(np.int64))
    out.labelled = torch.from_numpy(labelled)
    out.particle_table_nhits = count_particle_hits(event.particle_table_id, out.particle_id)
    out.truth_kind = "partial"
    return out


def evaluate_stage_as_partial_truth(stage_dir: str | Path, *, split: str = "test",
                                    poi: ParticlesOfInterest | None = None, seed: int = 0) -> StageReport:
    """A stage's test events scored as the real events are: each event given the partial labelling first."""
    files = stage_event_files(stage_dir, split)
    events = ((str(f), as_partial_truth(load_stage_event(f), seed)) for f in files)
    return evaluate_stage_events(events, stage_dir=str(stage_dir), split=split, poi=poi)


def fully_labelled(stage_dir: str | Path, split: str = "test") -> bool:
    """Whether the first event of a stage split carries full truth (simulated events do; the real ones do not).

    Raises:
        FileNotFoundError: the stage folder or split is missing or empty (named).
    """
    files = stage_event_files(stage_dir, split)
    return event_truth_kind(load_stage_event(files[0])) == "full"  # stage_event_files raises on none
