"""The soft-to-hard assignment study: every family's hardening knob, scanned on the same events.

Each tracker ends with a soft output and a rule that makes hard tracks of it; the rule is a
choice, and this study measures what each choice does to DM efficiency, fake, duplicate and
shared-hit rates (the workshop's open question):

- HGNN's bipartite scores: ``threshold`` (a hit joins every super-node it scores above the cut:
  shared hits on), ``argmax`` (its best one only: shared hits off), ``topk`` (its best 2) and
  ``matching`` (one hit per candidate and module), each along its cut;
- OC / EggNet embeddings: DBSCAN along ``eps`` (per ``min_samples``); OC's condensation points
  along ``t_d`` (per ``t_beta``);
- EC's edge scores: connected components along the score cut, and CC + walk along its cut.

Every stage folder is read as ``trackcore predict`` wrote it; each knob setting's tracks are
evaluated with the shared metrics, pooled over the split's events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trackcore.builders import (
    CondensationPoints,
    DBSCANBuilder,
    EdgeComponents,
    Grid,
    ScanEvent,
    SoftAssignment,
    TrackBuilder,
    scan_builder,
)
from trackcore.metrics import EventTruth, ParticlesOfInterest
from trackcore.metrics.stage_report import load_stage_event, stage_event_files

CUTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# which knobs a stage labelled with a family name gets (other labels: every knob its events allow)
FAMILY_KNOBS = {"ec": ("ec",), "oc": ("clustering", "condensation"), "eggnet": ("clustering",),
                "hgnn": ("hgnn", "clustering")}
RATES = ("dm_efficiency", "dm_fake_rate", "dm_duplicate_rate", "shared_hit_fraction", "perfect_efficiency")


@dataclass(frozen=True)
class Knob:
    """A hardening rule (a builder) and the values of its knob.

    Args:
        family: the stage kind it applies to (``hgnn``, ``clustering``, ``condensation``, ``ec``).
        method: the rule's name in the tables.
        knob: the scanned setting of the builder.
        builder: the builder, its other settings fixed.
        grid: the settings scanned (:func:`trackcore.builders.scan_builder`); by default ``knob``
            over ``values``.
        values: the knob's values.
    """

    family: str
    method: str
    knob: str
    builder: TrackBuilder
    values: tuple[float, ...]
    grid: Grid | None = None

    def scan_grid(self) -> Grid:
        return self.grid if self.grid is not None else {self.knob: list(self.values)}


def _walk_grid(cuts: Sequence[float]) -> list[dict[str, list[float]]]:
    """CC + walk along its cut: the walk takes edges above ``cut - 0.2`` (at least 0.05), its best
    edge while above ``cut``."""
    return [{"cut": [c], "walk_min": [max(c - 0.2, 0.05)], "walk_max": [c]} for c in cuts]


EPS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
WALK_CUTS = (0.3, 0.5, 0.7, 0.8, 0.9)
KNOBS: tuple[Knob, ...] = (
    Knob("hgnn", "threshold (shared hits)", "threshold", SoftAssignment(method="threshold"), CUTS),
    Knob("hgnn", "argmax (no sharing)", "min_weight", SoftAssignment(method="argmax"), CUTS),
    Knob("hgnn", "top-2", "min_weight", SoftAssignment(method="topk", k=2), CUTS),
    Knob("hgnn", "matching (1 hit/module)", "min_weight", SoftAssignment(method="matching"), CUTS),
    *(Knob("clustering", f"DBSCAN min_samples={m}", "eps", DBSCANBuilder(min_samples=m), EPS) for m in (1, 3, 5)),
    *(Knob("condensation", f"condensation t_beta={b}", "t_d", CondensationPoints(t_beta=b), (0.05, 0.1, 0.2, 0.3, 0.5))
      for b in (0.1, 0.5)),
    Knob("ec", "connected components", "cut", EdgeComponents(), CUTS),
    Knob("ec", "CC + walk", "cut", EdgeComponents(walk=True), WALK_CUTS, _walk_grid(WALK_CUTS)),
)


def _outputs(event: Any, keys: set[str]) -> dict[str, Any]:
    """A stage event's soft outputs ``keys``, as a builder reads them (None where the event has none)."""
    return {key: getattr(event, key, None) for key in keys}


def run_study(
    stages: dict[str, str | Path], *, split: str = "test", poi: ParticlesOfInterest | None = None,
    knobs: Sequence[Knob] = KNOBS, max_events: int | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> pd.DataFrame:
    """Scan every knob that applies to each stage (by the outputs its events carry), with the
    builder scan that validation and ``trackcore scan`` use (:func:`trackcore.builders.scan_builder`).

    Args:
        stages: label (e.g. ``"hgnn"``, ``"oc_small"``) -> a stage folder written by ``trackcore predict``.
            A label starting with a family name gets that family's knobs (:data:`FAMILY_KNOBS`;
            an OC stage also carries ec's edge scores, which are not OC's to harden).
        split, max_events: which events.
        poi: particles of interest (default pT > 1 GeV, >= 3 hits).

    Returns:
        One row per (stage, method, knob value): ``stage, method, knob, value`` and the pooled
        rates (:data:`RATES`, ``lhc_efficiency``, candidates per event).

    Raises:
        ValueError: a stage to which no knob applies.
    """
    poi = poi or ParticlesOfInterest()
    keys = {key for knob in knobs for key in knob.builder.reads}
    rows = []
    for label, folder in stages.items():
        files = stage_event_files(folder, split)[:max_events]
        events = [load_stage_event(f) for f in files]
        items = [ScanEvent(e, _outputs(e, keys), EventTruth.from_data(e)) for e in events]
        family = next((f for f in FAMILY_KNOBS if label.startswith(f)), None)
        allowed = FAMILY_KNOBS[family] if family else {k.family for k in knobs}
        applicable = [k for k in knobs if k.family in allowed
                      and all(items[0].outputs.get(key) is not None for key in k.builder.reads)]
        if not applicable:
            raise ValueError(f"{folder}: its events carry none of the soft outputs this study hardens")
        for knob in progress(applicable) if progress else applicable:
            table = scan_builder(knob.builder, items, knob.scan_grid(), poi=poi, need_best=False).table
            for _, row in table.iterrows():
                rows.append({"stage": label, "method": knob.method, "knob": knob.knob, "value": float(row[knob.knob]),
                             **{key: row.get(key, np.nan) for key in (*RATES, "lhc_efficiency")},
                             "candidates_per_event": row.get("n_candidates", np.nan) / max(len(events), 1)})
    return pd.DataFrame(rows)


def plot_study(table: pd.DataFrame, out: str | Path) -> list[Path]:
    """One figure per (stage, knob): each rate along the knob, one line style per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for (stage, knob), group in table.groupby(["stage", "knob"], sort=False):
        fig, axes = plt.subplots(1, len(RATES), figsize=(3.4 * len(RATES), 3.2), squeeze=False)
        for method, rows in group.groupby("method", sort=False):
            for ax, rate in zip(axes[0], RATES, strict=True):
                ax.plot(rows["value"], rows[rate], marker="o", label=method)
        for ax, rate in zip(axes[0], RATES, strict=True):
            ax.set_xlabel(knob)
            ax.set_title(rate.replace("_", " "), fontsize=9)
            ax.grid(alpha=0.3)
        axes[0][0].legend(fontsize=7)
        fig.suptitle(f"{stage}: hardening along {knob}")
        fig.tight_layout()
        path = out / f"{stage}_{knob.replace(' ', '_')}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        written.append(path)
    return written
