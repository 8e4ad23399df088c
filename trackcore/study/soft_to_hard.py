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
import torch

from trackcore.builders import (
    AssignmentOptions,
    assign,
    cc_and_walk,
    condensation_clustering,
    connected_components,
    dbscan,
    module_key,
)
from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth, ParticlesOfInterest, TrackingEvaluation, evaluate_tracks
from trackcore.metrics.stage_report import load_stage_event, stage_event_files

CUTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# which knobs a stage labelled with a family name gets (other labels: every knob its events allow)
FAMILY_KNOBS = {"ec": ("ec",), "oc": ("clustering", "condensation"), "eggnet": ("clustering",),
                "hgnn": ("hgnn", "clustering")}
RATES = ("dm_efficiency", "dm_fake_rate", "dm_duplicate_rate", "shared_hit_fraction", "perfect_efficiency")


@dataclass(frozen=True)
class Knob:
    """A hardening rule and the values of its knob.

    Args:
        family: the stage kind it applies to (``hgnn``, ``clustering``, ``condensation``, ``ec``).
        method: the rule's name in the tables.
        knob: the scanned parameter.
        values: its values.
        build: ``(event, value) -> TrackCandidates``.
        needs: event keys the rule reads.
    """

    family: str
    method: str
    knob: str
    values: tuple[float, ...]
    build: Callable[[Any, float], TrackCandidates]
    needs: tuple[str, ...]


def _bipartite(method: str, **fixed: Any) -> Callable[[Any, float], TrackCandidates]:
    def build(event: Any, value: float) -> TrackCandidates:
        key = "threshold" if method == "threshold" else "min_weight"
        options = AssignmentOptions(method=method, min_hits=3, **{key: value}, **fixed)
        group = None
        if method == "matching":  # one hit per (candidate, module)
            group = module_key(event.volume_id.long(), event.layer_id.long(), event.module_id.long())
        return assign(event.bipartite_hit, event.bipartite_super, event.bipartite_score.float(), int(event.num_nodes),
                      options=options, group_j=group, hit_id=event.hit_id)

    return build


def _dbscan(min_samples: int) -> Callable[[Any, float], TrackCandidates]:
    return lambda event, eps: dbscan(event.coords, eps=eps, min_samples=min_samples, hit_id=event.hit_id, min_hits=3)


def _condensation(t_beta: float) -> Callable[[Any, float], TrackCandidates]:
    return lambda event, t_d: condensation_clustering(event.coords, event.beta, t_beta=t_beta, t_d=t_d,
                                                      hit_id=event.hit_id, min_hits=3)


def _cc(event: Any, cut: float) -> TrackCandidates:
    return connected_components(event.edge_index, int(event.num_nodes), scores=event.edge_score, threshold=cut,
                                hit_id=event.hit_id, min_hits=3)


def _walk(event: Any, cut: float) -> TrackCandidates:
    r = torch.linalg.vector_norm(event.pos[:, :2], dim=1)
    return cc_and_walk(event.edge_index, event.edge_score, int(event.num_nodes), direction=r, cc_cut=cut,
                       walk_min=max(cut - 0.2, 0.05), walk_max=cut, min_hits=3, hit_id=event.hit_id)


EPS = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
BIPARTITE = ("bipartite_hit", "bipartite_super", "bipartite_score")
KNOBS: tuple[Knob, ...] = (
    Knob("hgnn", "threshold (shared hits)", "threshold", CUTS, _bipartite("threshold"), BIPARTITE),
    Knob("hgnn", "argmax (no sharing)", "min_weight", CUTS, _bipartite("argmax"), BIPARTITE),
    Knob("hgnn", "top-2", "min_weight", CUTS, _bipartite("topk", k=2), BIPARTITE),
    Knob("hgnn", "matching (1 hit/module)", "min_weight", CUTS, _bipartite("matching"), BIPARTITE),
    *(Knob("clustering", f"DBSCAN min_samples={m}", "eps", EPS, _dbscan(m), ("coords",)) for m in (1, 3, 5)),
    *(Knob("condensation", f"condensation t_beta={b}", "t_d", (0.05, 0.1, 0.2, 0.3, 0.5), _condensation(b),
           ("coords", "beta")) for b in (0.1, 0.5)),
    Knob("ec", "connected components", "edge cut", CUTS, _cc, ("edge_index", "edge_score")),
    Knob("ec", "CC + walk", "edge cut", (0.3, 0.5, 0.7, 0.8, 0.9), _walk, ("edge_index", "edge_score")),
)


def run_study(
    stages: dict[str, str | Path], *, split: str = "test", poi: ParticlesOfInterest | None = None,
    knobs: Sequence[Knob] = KNOBS, max_events: int | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> pd.DataFrame:
    """Scan every knob that applies to each stage (by the keys its events carry).

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
    rows = []
    for label, folder in stages.items():
        files = stage_event_files(folder, split)[:max_events]
        events = [load_stage_event(f) for f in files]
        truths = [EventTruth.from_data(e) for e in events]
        family = next((f for f in FAMILY_KNOBS if label.startswith(f)), None)
        allowed = FAMILY_KNOBS[family] if family else {k.family for k in knobs}
        applicable = [k for k in knobs if k.family in allowed
                      and all(getattr(events[0], key, None) is not None for key in k.needs)]
        if not applicable:
            raise ValueError(f"{folder}: its events carry none of the soft outputs this study hardens")
        items = [(k, v) for k in applicable for v in k.values]
        for knob, value in progress(items) if progress else items:
            evaluations = [evaluate_tracks(knob.build(e, value), t, poi) for e, t in zip(events, truths, strict=True)]
            summary = TrackingEvaluation.concat(evaluations).summary()
            rows.append({"stage": label, "method": knob.method, "knob": knob.knob, "value": value,
                         **{key: summary.get(key, np.nan) for key in (*RATES, "lhc_efficiency")},
                         "candidates_per_event": summary.get("n_candidates", np.nan) / max(len(events), 1)})
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
