"""Builders that cluster a learned space: DBSCAN, condensation points and HDBSCAN on ``coords``.

OC, EggNet and HGNN's embedding variant map hits to cluster coordinates (OC also to a
condensation strength ``beta``); these builders turn them into tracks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from trackcore.builders.base import TrackBuilder
from trackcore.builders.condensation import condensation_clustering, condensation_graph
from trackcore.builders.dbscan_clustering import dbscan, dbscan_graph, labels_from_graph
from trackcore.builders.hdbscan_clustering import hdbscan
from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.checks import check_count, check_positive


def _hit_id(event: Any) -> np.ndarray:
    return as_numpy(event.hit_id)


def _points(outputs: Mapping[str, Any], key: str) -> np.ndarray:
    """A model output as float32 numpy on the CPU (what the scans cluster)."""
    value = outputs[key]
    return as_numpy(value.detach().float().cpu()) if hasattr(value, "detach") else np.asarray(value, np.float32)


@dataclass(frozen=True)
class DBSCANBuilder(TrackBuilder):
    """DBSCAN on the cluster coordinates (gnn_tracking's and EggNet's inference).

    Args:
        eps: the neighbourhood radius (> 0).
        min_samples: core points need this many neighbours, themselves included (>= 1).
        min_hits: smaller clusters are not tracks.
    """

    eps: float = 0.3
    min_samples: int = 2
    min_hits: int = 3
    reads: ClassVar[tuple[str, ...]] = ("coords",)

    def __post_init__(self) -> None:
        check_positive("eps", self.eps)
        check_count("min_samples", self.min_samples, minimum=1)
        check_count("min_hits", self.min_hits)

    def __call__(self, event: Any, outputs: Mapping[str, Any]) -> TrackCandidates:
        self.check_outputs(outputs)
        return dbscan(outputs["coords"].detach(), eps=self.eps, min_samples=self.min_samples, hit_id=event.hit_id,
                      min_hits=self.min_hits)

    def build_grid(
        self, event: Any, outputs: Mapping[str, Any], points: Sequence[dict[str, Any]]
    ) -> list[TrackCandidates]:
        """One radius graph at the largest ``eps`` of ``points``; each setting filters it and reclusters."""
        self.check_outputs(outputs)
        builders = [self.with_settings(**point) for point in points]
        x, hit_id = _points(outputs, "coords"), _hit_id(event)
        graph = dbscan_graph(x, max(b.eps for b in builders))
        edge_index, distance = as_numpy(graph.edge_index), as_numpy(graph.distance)
        out = []
        for b in builders:
            keep = distance <= b.eps
            label_j = labels_from_graph(edge_index[0][keep], edge_index[1][keep], distance[keep], len(x), eps=b.eps,
                                        min_samples=b.min_samples)
            out.append(TrackCandidates.from_labels(label_j, hit_id, min_hits=b.min_hits))
        return out


@dataclass(frozen=True)
class CondensationPoints(TrackBuilder):
    """Condensation points (Kieseler): seeds of ``beta > t_beta`` in descending ``beta`` take the
    free hits within ``t_d`` of them.

    Args:
        t_beta: seed threshold, in [0, 1).
        t_d: capture radius (> 0).
        min_hits: smaller candidates are not tracks.
    """

    t_beta: float = 0.5
    t_d: float = 0.5
    min_hits: int = 3
    reads: ClassVar[tuple[str, ...]] = ("coords", "beta")

    def __post_init__(self) -> None:
        if not 0.0 <= self.t_beta < 1.0:
            raise ValueError(f"t_beta must be in [0, 1) (got {self.t_beta})")
        check_positive("t_d", self.t_d)
        check_count("min_hits", self.min_hits)

    def __call__(self, event: Any, outputs: Mapping[str, Any]) -> TrackCandidates:
        self.check_outputs(outputs)
        return condensation_clustering(outputs["coords"].detach(), outputs["beta"].detach(), t_beta=self.t_beta,
                                       t_d=self.t_d, hit_id=event.hit_id, min_hits=self.min_hits)

    def build_grid(
        self, event: Any, outputs: Mapping[str, Any], points: Sequence[dict[str, Any]]
    ) -> list[TrackCandidates]:
        """The seeds' neighbourhoods once (lowest ``t_beta``, largest ``t_d``); each setting reads them."""
        self.check_outputs(outputs)
        builders = [self.with_settings(**point) for point in points]
        hit_id = _hit_id(event)
        seeds = condensation_graph(_points(outputs, "coords"), _points(outputs, "beta"),
                                   t_beta=min(b.t_beta for b in builders), t_d=max(b.t_d for b in builders))
        return [TrackCandidates.from_labels(seeds.labels(b.t_beta, b.t_d), hit_id, min_hits=b.min_hits)
                for b in builders]


@dataclass(frozen=True)
class HDBSCANBuilder(TrackBuilder):
    """HDBSCAN on the cluster coordinates (no radius to choose).

    Args:
        min_cluster_size: HDBSCAN's smallest cluster.
        min_hits: smaller clusters are not tracks.
    """

    min_cluster_size: int = 3
    min_hits: int = 3
    reads: ClassVar[tuple[str, ...]] = ("coords",)

    def __post_init__(self) -> None:
        check_count("min_cluster_size", self.min_cluster_size, minimum=2)
        check_count("min_hits", self.min_hits)

    def __call__(self, event: Any, outputs: Mapping[str, Any]) -> TrackCandidates:
        self.check_outputs(outputs)
        return hdbscan(outputs["coords"].detach(), min_cluster_size=self.min_cluster_size, hit_id=event.hit_id,
                       min_hits=self.min_hits)
