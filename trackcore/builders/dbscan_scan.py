"""Scan DBSCAN's ``eps`` and ``min_samples`` on validation events (gnn_tracking's inference recipe).

The radius graph is built once per event at the largest ``eps``; every ``(eps, min_samples)``
setting then only filters its edges by distance and reclusters
(:func:`trackcore.builders.dbscan_clustering.labels_from_graph`), so a scan costs one neighbour search per
event plus a cheap clustering and evaluation per setting. Each setting is scored with the
shared metrics over all events together (:meth:`TrackingEvaluation.concat`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from trackcore.builders.dbscan_clustering import dbscan_graph, labels_from_graph
from trackcore.builders.scan import (
    BuilderScan,
    Objective,
    check_postprocess,
    dm_efficiency_minus_fake_rate,
    scan_result,
)
from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.checks import check_count, check_positive

if TYPE_CHECKING:  # trackcore.metrics imports trackcore.candidates: import it lazily
    from trackcore.metrics import EventTruth, ParticlesOfInterest, TrackingEvaluation


class DBSCANScan(BuilderScan):
    """Result of :func:`scan_dbscan`: a :class:`BuilderScan` over ``("eps", "min_samples")``."""

    @property
    def best_eps(self) -> float:
        return float(self.best_params["eps"])

    @property
    def best_min_samples(self) -> int:
        return int(self.best_params["min_samples"])


def scan_dbscan(
    events: Sequence[tuple[Any, EventTruth]],
    eps_values: Sequence[float],
    min_samples_values: Sequence[int],
    *,
    objective: Objective = dm_efficiency_minus_fake_rate,
    max_num_neighbors: int | None = None,
    backend: str = "auto",
    min_hits: int = 1,
    poi: ParticlesOfInterest | None = None,
    postprocess: Sequence[Callable[[TrackCandidates], TrackCandidates]] | None = None,
) -> DBSCANScan:
    """Evaluate DBSCAN on ``events`` for every ``(eps, min_samples)`` and pick the best.

    Args:
        events: ``(x, truth)`` pairs: the embedding of the event's hits, row ``j`` belonging to
            ``truth.hit_id_j[j]``.
        eps_values: radii to try (> 0).
        min_samples_values: ``min_samples`` values to try (>= 1).
        objective: maps a summary dict to the number to maximise (default DM efficiency minus
            DM fake rate).
        max_num_neighbors: neighbour cap of the one radius graph per event (the nearest are
            kept, so a capped graph filtered to a smaller ``eps`` equals the capped graph built
            at that ``eps``); None for exact DBSCAN.
        backend: neighbour-search backend (``"auto"``: KD-tree on CPU).
        min_hits: clusters with fewer hits are not tracks.
        poi: particles of interest of the metrics (default: theirs).
        postprocess: one function per event applied to every candidate set before it is
            evaluated (e.g. the helix-fit refinement, so that the scan judges the final tracks);
            None evaluates the builder's output.

    Shapes:
        x: (N_hits, D) per event, N_hits = ``len(truth.hit_id_j)``.

    Raises:
        ValueError: no events or settings, bad ``eps``/``min_samples``, an embedding whose
            length differs from its truth, or no setting with a finite objective.
    """
    from trackcore.metrics import evaluate_tracks

    eps_grid = sorted({check_positive("eps", e) for e in eps_values})
    samples_grid = sorted({check_count("min_samples", m, minimum=1) for m in min_samples_values})
    check_count("min_hits", min_hits)
    if not eps_grid or not samples_grid:
        raise ValueError("Expected at least one value in 'eps_values' and in 'min_samples_values'")
    if not len(events):
        raise ValueError("Expected at least one (x, truth) event to scan")
    post = check_postprocess(postprocess, len(events))

    evaluations: dict[tuple[float, int], list[TrackingEvaluation]] = {}
    for i, (x, truth) in enumerate(events):
        if len(x) != truth.n_hits:
            raise ValueError(f"Event {i}: 'x' has {len(x)} rows but its truth has {truth.n_hits} hits")
        graph = dbscan_graph(x, eps_grid[-1], max_num_neighbors=max_num_neighbors, backend=backend)
        edge_index, distance = as_numpy(graph.edge_index), as_numpy(graph.distance)
        for eps in eps_grid:
            keep = distance <= eps
            neighbor_e, query_e, distance_e = edge_index[0][keep], edge_index[1][keep], distance[keep]
            for min_samples in samples_grid:
                label_j = labels_from_graph(
                    neighbor_e, query_e, distance_e, truth.n_hits, eps=eps, min_samples=min_samples
                )
                candidates = post[i](TrackCandidates.from_labels(label_j, truth.hit_id_j, min_hits=min_hits))
                evaluations.setdefault((eps, min_samples), []).append(evaluate_tracks(candidates, truth, poi))

    result = scan_result(evaluations, ("eps", "min_samples"), objective)
    return DBSCANScan(result.table, result.params, result.best_params, result.best_objective, result.best_evaluations)
