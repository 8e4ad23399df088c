"""Scan condensation-point clustering's ``t_beta`` and ``t_d`` on validation events.

One radius search per event around every hit above the smallest ``t_beta`` at the largest
``t_d`` (:func:`trackcore.builders.condensation.condensation_graph`); every setting then
reclusters from those neighbour lists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from trackcore.builders.condensation import condensation_graph
from trackcore.builders.scan import (
    BuilderScan,
    Objective,
    check_postprocess,
    dm_efficiency_minus_fake_rate,
    scan_result,
)
from trackcore.candidates import TrackCandidates
from trackcore.checks import check_count, check_positive

if TYPE_CHECKING:  # trackcore.metrics imports trackcore.candidates: import it lazily
    from trackcore.metrics import EventTruth, ParticlesOfInterest, TrackingEvaluation


def scan_condensation(
    events: Sequence[tuple[Any, Any, EventTruth]],
    t_beta_values: Sequence[float],
    t_d_values: Sequence[float],
    *,
    objective: Objective = dm_efficiency_minus_fake_rate,
    max_num_neighbors: int | None = None,
    backend: str = "auto",
    min_hits: int = 1,
    poi: ParticlesOfInterest | None = None,
    postprocess: Sequence[Callable[[TrackCandidates], TrackCandidates]] | None = None,
) -> BuilderScan:
    """Evaluate :func:`~trackcore.builders.condensation_clustering` for every ``(t_beta, t_d)``.

    Args:
        events: ``(x, beta, truth)``: each event's cluster coordinates and condensation
            strengths, row ``j`` belonging to ``truth.hit_id_j[j]``.
        t_beta_values: seed thresholds to try, in [0, 1).
        t_d_values: capture radii to try (> 0).
        objective, max_num_neighbors, backend, min_hits, poi, postprocess: as in
            :func:`~trackcore.builders.scan_dbscan`.

    Shapes:
        x: (N_hits, D); beta: (N_hits,) per event.

    Raises:
        ValueError: no events or settings, bad thresholds, coordinates whose length differs
            from their truth, or no setting with a finite objective.
    """
    from trackcore.metrics import evaluate_tracks

    t_d_grid = sorted({check_positive("t_d", t) for t in t_d_values})
    t_beta_grid = sorted({float(t) for t in t_beta_values})
    if any(not 0.0 <= t < 1.0 for t in t_beta_grid):
        raise ValueError(f"Expected every t_beta in [0, 1) (got {t_beta_grid})")
    check_count("min_hits", min_hits)
    if not t_beta_grid or not t_d_grid:
        raise ValueError("Expected at least one value in 't_beta_values' and in 't_d_values'")
    if not len(events):
        raise ValueError("Expected at least one (x, beta, truth) event to scan")

    evaluations: dict[tuple[float, float], list[TrackingEvaluation]] = {}
    post = check_postprocess(postprocess, len(events))
    for i, (x, beta, truth) in enumerate(events):
        if len(x) != truth.n_hits:
            raise ValueError(f"Event {i}: 'x' has {len(x)} rows but its truth has {truth.n_hits} hits")
        seeds = condensation_graph(x, beta, t_beta=t_beta_grid[0], t_d=t_d_grid[-1],
                                   max_num_neighbors=max_num_neighbors, backend=backend)
        for t_beta in t_beta_grid:
            for t_d in t_d_grid:
                candidates = post[i](
                    TrackCandidates.from_labels(seeds.labels(t_beta, t_d), truth.hit_id_j, min_hits=min_hits)
                )
                evaluations.setdefault((t_beta, t_d), []).append(evaluate_tracks(candidates, truth, poi))
    return scan_result(evaluations, ("t_beta", "t_d"), objective)
