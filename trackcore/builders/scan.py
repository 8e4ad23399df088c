"""The builder scan: a grid of a builder's settings tried on events, each judged after the refinement.

:func:`scan_builder` builds every event's candidates at every setting of the grid
(:func:`~trackcore.builders.base.grid_points`; DBSCAN's ``eps``/``min_samples``, condensation's
``t_beta``/``t_d``, the assignment's ``method``/``threshold`` ...), passes them through a
post-processing step per event (the helix refinement, so that the scan judges the final
tracks), pools each setting's per-event evaluations (:meth:`TrackingEvaluation.concat`) and
picks the setting with the largest objective (default: DM efficiency minus DM fake rate).
It is the one scan: validation epochs (:class:`~trackcore.train.TrackingModule`),
``trackcore scan`` and the soft-to-hard study all call it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trackcore.builders.base import Grid, TrackBuilder, grid_points
from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth, ParticlesOfInterest, TrackingEvaluation, evaluate_tracks

Objective = Callable[[dict[str, float]], float]


class NoFiniteObjectiveError(ValueError):
    """No setting of a scan gave a finite objective (typically: no setting made any candidate)."""


def dm_efficiency_minus_fake_rate(summary: dict[str, float]) -> float:
    """The default scan objective: double-majority efficiency minus double-majority fake rate."""
    return summary["dm_efficiency"] - summary["dm_fake_rate"]


@dataclass(frozen=True)
class BuilderScan:
    """Result of a builder scan.

    Args:
        table: one row per setting, in scan order (each parameter ascending, the first slowest):
            a column per parameter, ``objective`` and every key of
            :meth:`TrackingEvaluation.summary` (``dm_efficiency``, ``dm_fake_rate``, ...).
        params: the scanned parameters' names, in column order.
        best_params: the setting with the largest objective (the first in scan order on ties;
            NaN objectives never win).
        best_objective: its objective.
        best_evaluations: the best setting's evaluation of each event, in the events' order.
    """

    table: pd.DataFrame
    params: tuple[str, ...]
    best_params: dict[str, Any]
    best_objective: float
    best_evaluations: tuple[TrackingEvaluation, ...] = ()

    @property
    def best(self) -> pd.Series:
        """The table row of the best setting."""
        t = self.table
        mask = np.ones(len(t), bool)
        for name, value in self.best_params.items():
            mask &= (t[name] == value).to_numpy()
        return t[mask].iloc[0]


def check_postprocess(
    postprocess: Sequence[Callable[[TrackCandidates], TrackCandidates]] | None, n_events: int
) -> list[Callable[[TrackCandidates], TrackCandidates]]:
    """One candidate post-processing function per event (the identity where ``postprocess`` is None)."""
    if postprocess is None:
        return [_identity] * n_events
    post = list(postprocess)
    if len(post) != n_events:
        raise ValueError(f"Expected one postprocess function per event: {n_events} (got {len(post)})")
    return post


def _identity(candidates: TrackCandidates) -> TrackCandidates:
    return candidates


def scan_result(
    evaluations: Mapping[tuple[float, ...], Sequence[TrackingEvaluation]],
    params: Sequence[str],
    objective: Objective = dm_efficiency_minus_fake_rate,
    *,
    need_best: bool = True,
) -> BuilderScan:
    """Pool each setting's per-event evaluations, score them and pick the best setting.

    Args:
        evaluations: per setting (a tuple of values in ``params`` order), its events' evaluations.
        params: the parameters' names.
        objective: maps a summary dict to the number to maximise.
        need_best: without a finite objective, raise (True) or return the table with no best
            setting (``best_params`` empty, ``best_objective`` NaN).

    Raises:
        NoFiniteObjectiveError: no setting gave a finite objective (and ``need_best``).
    """
    rows = []
    for setting, evs in evaluations.items():
        summary = TrackingEvaluation.concat(list(evs)).summary()
        rows.append({**dict(zip(params, setting, strict=True)), "objective": float(objective(summary)), **summary})
    table = pd.DataFrame(rows)
    scores = table["objective"].to_numpy(float) if len(table) else np.zeros(0)
    finite = np.isfinite(scores)
    if not finite.any() and not need_best:
        return BuilderScan(table=table, params=tuple(params), best_params={}, best_objective=float("nan"))
    if not finite.any():
        raise NoFiniteObjectiveError(f"No ({', '.join(params)}) setting gave a finite objective (no candidates at "
                                     "all?)")
    best = int(np.flatnonzero(finite)[np.argmax(scores[finite])])
    best_params = {name: _python(table[name].iloc[best]) for name in params}
    best_setting = list(evaluations)[best]
    return BuilderScan(table=table, params=tuple(params), best_params=best_params,
                       best_objective=float(scores[best]), best_evaluations=tuple(evaluations[best_setting]))


def _python(value: Any) -> Any:
    """A table cell as a plain Python value (numpy scalars unwrapped, strings as they are)."""
    return value.item() if hasattr(value, "item") else value


@dataclass(frozen=True)
class ScanEvent:
    """What a scan needs of one event: the event (hit ids, graph, geometry), the model's outputs
    for it and its truth; ``memo``: the search memo that every refinement of this event shares, the
    scan's settings and the chosen setting's final tracks (:data:`trackcore.refinement.finder.SearchMemo`)."""

    event: Any
    outputs: Mapping[str, Any]
    truth: EventTruth
    memo: dict = field(default_factory=dict, compare=False, repr=False)


def scan_builder(
    builder: TrackBuilder,
    events: Sequence[ScanEvent],
    grid: Grid,
    *,
    poi: ParticlesOfInterest | None = None,
    postprocess: Sequence[Callable[[TrackCandidates], TrackCandidates]] | None = None,
    objective: Objective = dm_efficiency_minus_fake_rate,
    need_best: bool = True,
) -> BuilderScan:
    """Evaluate ``builder`` at every setting of ``grid`` on ``events`` and pick the best.

    Args:
        builder: the builder whose settings the grid changes (settings it does not name keep
            the builder's values).
        events: the events, with the model's outputs and their truth.
        grid: the settings to try (:data:`~trackcore.builders.base.Grid`).
        poi: particles of interest of the metrics (default: theirs).
        postprocess: one function per event applied to every candidate set before it is
            evaluated (the refinement, as test and predict build tracks); None: the builder's output.
        objective: maps a summary to the number to maximise.
        need_best: see :func:`scan_result` (False: a table even when no setting made a candidate).

    Returns:
        A :class:`BuilderScan` over the grid's settings, in grid order; ``best_params`` are
        settings of ``builder`` (``builder.with_settings(**scan.best_params)``).

    Raises:
        ValueError: no events, a bad grid (unknown setting, bad value), two grid points that are
            the same setting, or a model output the builder needs is missing.
        NoFiniteObjectiveError: no setting gave a finite objective (no candidate at all).
    """
    if not len(events):
        raise ValueError("Expected at least one event to scan")
    points = grid_points(grid)
    params = list(dict.fromkeys(name for point in points for name in point))
    resolved = [builder.with_settings(**point).settings() for point in points]  # every point checked before any work
    keys = [tuple(settings[name] for name in params) for settings in resolved]
    if len(set(keys)) != len(keys):
        raise ValueError(f"the scan grid {grid!r} names one setting twice")
    post = check_postprocess(postprocess, len(events))
    evaluations: dict[tuple[Any, ...], list[TrackingEvaluation]] = {key: [] for key in keys}
    for i, item in enumerate(events):
        if item.truth.n_hits != int(item.event.num_nodes):
            raise ValueError(f"Event {i}: {int(item.event.num_nodes)} hits but its truth has {item.truth.n_hits}")
        for key, candidates in zip(keys, builder.build_grid(item.event, item.outputs, points), strict=True):
            evaluations[key].append(evaluate_tracks(post[i](candidates), item.truth, poi))
    return scan_result(evaluations, params, objective, need_best=need_best)
