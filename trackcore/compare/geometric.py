"""The model-free geometric baseline as a comparison row: helices searched among the hits, nothing learned.

``HelixRefinement(recover=True)`` given no candidates searches every pixel hit's neighbourhood in
direction, seen from the origin, for the best helix through it (a robust search over hit triples
through the beam line), keeps the largest helices first, each hit in one, then applies the quality
cut (``max_holes``). It reads only the hit positions, volumes and layers of the very events the
families are tested on, processed with the same selection. Every full-event comparison carries it
as the row ``geometric``: a family below it has learned less than the geometry gives for free.

Its settings are :data:`GEOMETRIC_SETTINGS`, and ``trackcore compare --refine KEY=VALUE`` changes
them as it changes every family's refinement.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from trackcore.candidates import TrackCandidates
from trackcore.refinement.refine import HelixRefinement
from trackcore.train.writer import save_stage_event

GEOMETRIC_SETTINGS: dict[str, Any] = {
    "recover": True, "max_holes": 1, "span_holes_from": 5, "min_layers": 3, "short_d0": (3, 0.5),
    "displaced": {"min_layers": 3, "min_pt": 0.9, "retries": 1},
}
"""The baseline's refinement: recover on every hit, judged by the quality cut the full-pixel family configs
apply too: at most one hole per track (within the span of its hits for tracks of 5 hits or more), at
least 3 layers; 3-layer tracks within 0.5 mm of the beam line (as EC's config; OC, EggNet and HGNN
take 1 mm, which their validation events preferred); then the search off the beam line on the hits left
(:class:`~trackcore.refinement.finder.DisplacedSearch`: helices of pT > 0.9 GeV on >= 3 layers, a seed whose
best helix is rejected searched once more, as the `small` family configs)."""


def geometric_finder(overrides: Mapping[str, Any] | None = None) -> HelixRefinement:
    """The baseline's :class:`HelixRefinement`: :data:`GEOMETRIC_SETTINGS` updated by ``overrides``."""
    return HelixRefinement(**{**GEOMETRIC_SETTINGS, **dict(overrides or {})})


def find_tracks(finder: HelixRefinement, event: Any) -> TrackCandidates:
    """The baseline's candidates on one processed event (its positions, volumes and layers only).

    Shapes:
        event.pos: (N, 3); event.hit_id, event.volume_id, event.layer_id: (N,).
    """
    return finder(
        TrackCandidates.empty(),
        event.pos,
        event.hit_id,
        getattr(event, "volume_id", None),
        layer_id=getattr(event, "layer_id", None),
    )


def write_geometric_stage(
    events: Iterable[Any], stage_dir: str | Path, finder: HelixRefinement, split: str = "test"
) -> tuple[int, float]:
    """Write ``stage_dir/split/event<id>.pt`` for each processed event with the baseline's candidates
    (replacing an earlier baseline stage: nothing is trained). Returns (events, seconds of finding).
    """
    n, seconds = 0, 0.0
    for event in tqdm(list(events), desc="geometric baseline", unit="event", leave=False):
        start = time.perf_counter()
        tracks = find_tracks(finder, event)
        seconds += time.perf_counter() - start
        event = event.clone()
        event.track_hit_id = torch.from_numpy(tracks.hit_id.astype("int64"))
        event.track_id = torch.from_numpy(tracks.track_id.astype("int64"))
        save_stage_event(event, Path(stage_dir) / split, overwrite=True)
        n += 1
    return n, seconds
