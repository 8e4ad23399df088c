"""What every builder scan shares: one table row per setting, scored over all events together.

A scan evaluates a builder on validation events for every setting of its parameters (DBSCAN's
``eps``/``min_samples``, condensation's ``t_beta``/``t_d``), pools each setting's per-event
evaluations (:meth:`TrackingEvaluation.concat`) and picks the setting with the largest
objective (default: DM efficiency minus DM fake rate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trackcore.candidates import TrackCandidates

if TYPE_CHECKING:  # trackcore.metrics imports trackcore.candidates: import it lazily
    from trackcore.metrics import TrackingEvaluation

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
    best_params: dict[str, float]
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
) -> BuilderScan:
    """Pool each setting's per-event evaluations, score them and pick the best setting.

    Args:
        evaluations: per setting (a tuple of values in ``params`` order), its events' evaluations.
        params: the parameters' names.
        objective: maps a summary dict to the number to maximise.

    Raises:
        NoFiniteObjectiveError: no setting gave a finite objective.
    """
    from trackcore.metrics import TrackingEvaluation

    rows = []
    for setting, evs in evaluations.items():
        summary = TrackingEvaluation.concat(list(evs)).summary()
        rows.append({**dict(zip(params, setting, strict=True)), "objective": float(objective(summary)), **summary})
    table = pd.DataFrame(rows)
    scores = table["objective"].to_numpy(float) if len(table) else np.zeros(0)
    finite = np.isfinite(scores)
    if not finite.any():
        raise NoFiniteObjectiveError(f"No ({', '.join(params)}) setting gave a finite objective (no candidates at "
                                     "all?)")
    best = int(np.flatnonzero(finite)[np.argmax(scores[finite])])
    best_params = {name: table[name].iloc[best].item() for name in params}
    best_setting = list(evaluations)[best]
    return BuilderScan(table=table, params=tuple(params), best_params=best_params,
                       best_objective=float(scores[best]), best_evaluations=tuple(evaluations[best_setting]))
