"""A second building pass over the hits that the first pass's refined candidates leave.

Two kinds, one per model output: :class:`LeftoverComponents` (edge scores: EC) and
:class:`LeftoverClusters` (cluster coordinates: OC, EggNet). Both are :class:`SecondPass` builders,
called as ``(event, outputs, taken)``.

On full events the edge classifier scores some true edges low: mostly those of short particles
(3-4 hits on 3 layers), whose few hits give the message passing little to go on. Their hits then
form no candidate at the first pass's cut, or a piece that the quality cut drops. The second pass
takes the graph again, keeps the edges that score above a lower cut and join two hits that no
first-pass candidate holds, and makes its connected components candidates. The module refines
them alone (the same helix refinement and quality cut) and adds them to the first pass's:
a first-pass track never loses a hit to the second pass.

For clustering families the first pass's DBSCAN may join two particles' hits (or a particle's hits
and noise) that the helix refinement then pulls apart, keeping one and releasing the rest; clustered
again without the hits the kept tracks hold, the released hits can form their own candidates.

Usage (a module's ``second_pass``, YAML)::

    second_pass:
      class_path: trackcore.builders.LeftoverComponents
      init_args: {cut: 0.2}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import torch

from trackcore.builders.assignment import AssignmentMethod
from trackcore.builders.assignment_builder import SoftAssignment
from trackcore.builders.base import TrackBuilder
from trackcore.builders.clustering import DBSCANBuilder
from trackcore.builders.components import connected_components
from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.checks import check_count


class SecondPass(TrackBuilder):
    """A builder of a module's second pass: called as ``(event, outputs, taken)``, it builds from
    ``outputs`` among the hits ``taken`` leaves (no candidate holds a taken hit).

    Shapes:
        taken: (N_hits,) bool.
    """

    def __call__(self, event: Any, outputs: Mapping[str, Any], taken: Any = None) -> TrackCandidates:  # type: ignore[override]
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    @staticmethod
    def free_mask(event: Any, taken: Any) -> np.ndarray:
        """The hits no first-pass candidate holds (every hit when ``taken`` is None).

        Shapes:
            returns (N_hits,) bool.
        """
        if taken is None:
            return np.ones(event.num_nodes, bool)
        taken = np.asarray(taken, bool)
        if taken.shape != (event.num_nodes,):
            raise ValueError(f"taken must mark each of the event's {event.num_nodes} hits (got shape {taken.shape})")
        return ~taken


@dataclass(frozen=True)
class LeftoverComponents(SecondPass):
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
        free_hit = self.free_mask(event, taken)
        src, dst = edge_index.numpy()
        free = torch.from_numpy(free_hit[src] & free_hit[dst])  # an edge at a taken hit never joins
        return connected_components(edge_index[:, free], event.num_nodes, scores=scores[free], threshold=self.cut,
                                    hit_id=event.hit_id, min_hits=self.min_hits)


@dataclass(frozen=True)
class LeftoverClusters(SecondPass):
    """DBSCAN on the cluster coordinates of the hits no candidate holds yet (OC's, EggNet's).

    Args:
        eps: the neighbourhood radius (> 0).
        min_samples: core points need this many neighbours, themselves included (>= 1).
        min_hits: smaller clusters are not candidates.

    Shapes:
        outputs["coords"]: (N_hits, D); taken: (N_hits,) bool.
    """

    eps: float = 0.3
    min_samples: int = 1
    min_hits: int = 3
    reads: ClassVar[tuple[str, ...]] = DBSCANBuilder.reads

    def __post_init__(self) -> None:
        self.clustering  # noqa: B018 - checks the settings

    @property
    def clustering(self) -> DBSCANBuilder:
        """The same settings as the first-pass builder takes them."""
        return DBSCANBuilder(eps=self.eps, min_samples=self.min_samples, min_hits=self.min_hits)

    def __call__(self, event: Any, outputs: Mapping[str, Any], taken: Any = None) -> TrackCandidates:  # type: ignore[override]
        self.check_outputs(outputs)
        free = self.free_mask(event, taken)
        if free.sum() < self.min_hits:
            return TrackCandidates.empty()
        keep = torch.from_numpy(free)
        return self.clustering(SimpleNamespace(hit_id=as_numpy(event.hit_id)[free]),
                               {"coords": outputs["coords"].detach().cpu()[keep]})


@dataclass(frozen=True)
class LeftoverAssignment(SecondPass):
    """The hit-to-super-node scores of the hits no candidate holds yet, hardened (HGNN's): the
    settings of :class:`~trackcore.builders.SoftAssignment`, on the bipartite edges of free hits.

    Shapes:
        outputs["bipartite_hit"], ["bipartite_super"], ["bipartite_score"]: (B,); taken: (N_hits,) bool.
    """

    method: AssignmentMethod = "argmax"
    threshold: float = 0.7
    min_weight: float = 0.0
    k: int = 2
    min_hits: int = 3
    reads: ClassVar[tuple[str, ...]] = SoftAssignment.reads

    def __post_init__(self) -> None:
        self.hardening  # noqa: B018 - checks the settings

    @property
    def hardening(self) -> SoftAssignment:
        """The same settings as the first-pass builder takes them."""
        return SoftAssignment(method=self.method, threshold=self.threshold, min_weight=self.min_weight, k=self.k,
                              min_hits=self.min_hits)

    def __call__(self, event: Any, outputs: Mapping[str, Any], taken: Any = None) -> TrackCandidates:  # type: ignore[override]
        self.check_outputs(outputs)
        free = torch.from_numpy(self.free_mask(event, taken))
        keep = free[outputs["bipartite_hit"].cpu().long()]
        return self.hardening(event, {key: outputs[key].cpu()[keep] for key in self.reads})


def taken_hits(hit_id: Any, candidates: TrackCandidates) -> np.ndarray:
    """Which of the event's hits (by ``hit_id``) some candidate holds.

    Shapes:
        hit_id: (N_hits,); returns (N_hits,) bool.
    """
    return np.isin(np.asarray(hit_id), candidates.hit_id)
