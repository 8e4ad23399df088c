"""Builders on a scored graph: connected components of the edges above a cut, or CC and walk (EC)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from trackcore.builders.base import TrackBuilder
from trackcore.builders.components import connected_components
from trackcore.builders.walkthrough import cc_and_walk
from trackcore.candidates import TrackCandidates
from trackcore.checks import check_count


@dataclass(frozen=True)
class EdgeComponents(TrackBuilder):
    """Tracks from the event's graph (``edge_index``) and the model's ``edge_score``.

    Args:
        cut: edges with ``score > cut`` join (connected components).
        walk: False: connected components; True: CC and walk (``cc_and_walk``): components that
            are simple paths at ``cut`` are tracks, the rest are walked outwards in radius along
            edges above ``walk_min``, taking the best edge while it is above ``walk_max``.
        walk_min, walk_max: the walk's cuts.
        min_hits: smaller candidates are not tracks.
    """

    cut: float = 0.5
    walk: bool = False
    walk_min: float = 0.1
    walk_max: float = 0.6
    min_hits: int = 3
    reads: ClassVar[tuple[str, ...]] = ("edge_score",)

    def __post_init__(self) -> None:
        if not 0.0 <= self.cut <= 1.0:
            raise ValueError(f"cut must be in [0, 1] (got {self.cut})")
        check_count("min_hits", self.min_hits)

    def __call__(self, event: Any, outputs: Mapping[str, Any]) -> TrackCandidates:
        self.check_outputs(outputs)
        edge_index, scores = event.edge_index.cpu(), outputs["edge_score"].detach().cpu()
        if not self.walk:
            return connected_components(edge_index, event.num_nodes, scores=scores, threshold=self.cut,
                                        hit_id=event.hit_id, min_hits=self.min_hits)
        r = torch.linalg.vector_norm(event.pos[:, :2], dim=1)
        return cc_and_walk(edge_index, scores, event.num_nodes, direction=r, cc_cut=self.cut, walk_min=self.walk_min,
                           walk_max=self.walk_max, min_hits=self.min_hits, hit_id=event.hit_id)
