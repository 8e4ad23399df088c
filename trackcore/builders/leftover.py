"""A second building pass over the hits that the first pass's refined candidates leave.

On full events the edge classifier scores some true edges low: mostly those of short particles
(3-4 hits on 3 layers), whose few hits give the message passing little to go on. Their hits then
form no candidate at the first pass's cut, or a piece that the quality cut drops. The second pass
takes the graph again, keeps the edges that score above a lower cut and join two hits that no
first-pass candidate holds, and makes its connected components candidates. The module refines
them alone (the same helix refinement and quality cut) and adds them to the first pass's:
a first-pass track never loses a hit to the second pass.

Usage (a module's ``second_pass``, YAML)::

    second_pass:
      class_path: trackcore.builders.LeftoverComponents
      init_args: {cut: 0.2}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from trackcore.builders.base import TrackBuilder
from trackcore.builders.components import connected_components
from trackcore.candidates import TrackCandidates
from trackcore.checks import check_count


@dataclass(frozen=True)
class LeftoverComponents(TrackBuilder):
    """Connected components of the edges scoring ``> cut`` between hits no candidate holds yet.

    Args:
        cut: the second pass's edge-score cut (below the first pass's).
        min_hits: smaller components are not candidates.

    Called as ``(event, outputs, taken)``: ``taken`` marks the hits the first pass's candidates hold.

    Shapes:
        event.edge_index: (2, E); outputs["edge_score"]: (E,); taken: (N_hits,) bool.
    """

    cut: float = 0.2
    min_hits: int = 3
    reads: ClassVar[tuple[str, ...]] = ("edge_score",)

    def __post_init__(self) -> None:
        if not 0.0 <= self.cut <= 1.0:
            raise ValueError(f"second pass cut must be in [0, 1] (got {self.cut})")
        check_count("min_hits", self.min_hits)

    def __call__(self, event: Any, outputs: Mapping[str, Any], taken: Any = None) -> TrackCandidates:  # type: ignore[override]
        self.check_outputs(outputs)
        edge_index, scores = event.edge_index.cpu(), outputs["edge_score"].detach().cpu()
        if taken is None:
            taken = np.zeros(event.num_nodes, bool)
        taken = np.asarray(taken, bool)
        if taken.shape != (event.num_nodes,):
            raise ValueError(f"taken must mark each of the event's {event.num_nodes} hits (got shape {taken.shape})")
        src, dst = edge_index.numpy()
        free = torch.from_numpy(~taken[src] & ~taken[dst])  # an edge at a taken hit never joins
        return connected_components(edge_index[:, free], event.num_nodes, scores=scores[free], threshold=self.cut,
                                    hit_id=event.hit_id, min_hits=self.min_hits)


def taken_hits(hit_id: Any, candidates: TrackCandidates) -> np.ndarray:
    """Which of the event's hits (by ``hit_id``) some candidate holds.

    Shapes:
        hit_id: (N_hits,); returns (N_hits,) bool.
    """
    return np.isin(np.asarray(hit_id), candidates.hit_id)
