"""The metrics report of one stage's outputs (what ``trackcore evaluate STAGE_DIR`` computes).

A stage's ``predict`` writes one ``event<id>.pt`` per event (:class:`~trackcore.train.StageWriter`).
Whatever those events carry is evaluated with the shared metrics, pooled over events by
summing counts:

- a graph (``edge_index``): efficiency over the truth-graph edges of target hits and purity,
  both against truth-graph edges and against same-particle pairs; with ``edge_score``, the
  edges above ``edge_cut`` and the AUC;
- track candidates (``track_hit_id``, ``track_id``): every tracking metric of
  :class:`~trackcore.metrics.TrackingEvaluation`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from trackcore.candidates import TrackCandidates
from trackcore.metrics.edges import EdgeMetrics, edge_metrics
from trackcore.metrics.tracking import TrackingEvaluation, evaluate_tracks
from trackcore.metrics.truth import EventTruth, ParticlesOfInterest


def stage_event_files(stage_dir: str | Path, split: str) -> list[Path]:
    """The ``event*.pt`` files of one split of a stage folder, sorted.

    Raises:
        FileNotFoundError: the folder or split is missing, or holds no event file.
    """
    root = Path(stage_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such stage folder (write it with `trackcore predict ... --predict_dir`)")
    folder = root / split
    if not folder.is_dir():
        have = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise FileNotFoundError(f"{folder}: no split {split!r} in this stage folder (it has {have})")
    files = sorted(folder.glob("event*.pt"))
    if not files:
        raise FileNotFoundError(f"{folder}: no event*.pt files")
    return files


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass
class StageReport:
    """Pooled metrics of a stage's outputs on one split.

    Attributes:
        stage_dir, split: what was evaluated.
        n_events: events read.
        edge_cut: score cut of the scored graph's metrics.
        edges_truth_graph: efficiency / purity against the truth graph (None without a graph).
        edges_same_particle: purity against same-particle pairs (None without a graph).
        tracking: the pooled :class:`TrackingEvaluation` (None without candidates).
        poi: particles of interest.
    """

    stage_dir: str
    split: str
    n_events: int
    edge_cut: float
    poi: ParticlesOfInterest
    edges_truth_graph: EdgeMetrics | None = None
    edges_same_particle: EdgeMetrics | None = None
    tracking: TrackingEvaluation | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN rates become null."""
        out: dict[str, Any] = {
            "stage_dir": self.stage_dir, "split": self.split, "n_events": self.n_events,
            "particles_of_interest": {"min_pt": self.poi.min_pt, "min_hits": self.poi.min_hits,
                                      "max_abs_eta": self.poi.max_abs_eta},
        }
        if self.edges_truth_graph is not None and self.edges_same_particle is not None:
            g, s = self.edges_truth_graph, self.edges_same_particle
            out["edges"] = {
                "edge_cut": self.edge_cut,
                "edges_per_event": g.n_edges / self.n_events,
                "efficiency": _finite(g.efficiency),
                "purity_truth_graph": _finite(g.purity),
                "purity_same_particle": _finite(s.purity),
                "auc": _finite(s.auc),
                "counts": {"n_edges": g.n_edges, "n_target": g.n_target, "n_target_found": g.n_target_found,
                           "n_truth_graph_kept": g.n_true_kept, "n_same_particle_kept": s.n_true_kept},
            }
        if self.tracking is not None:
            out["tracking"] = {k: _finite(float(v)) for k, v in self.tracking.summary().items()}
            t = self.tracking
            out["tracking_counts"] = {
                "particles_of_interest": int(t.particles["of_interest"].sum()),
                "candidates_considered": int(t.candidates["considered"].sum()),
            }
        return out


def _evaluate_event(
    event: Any, poi: ParticlesOfInterest, edge_cut: float
) -> tuple[tuple[EdgeMetrics, EdgeMetrics] | None, TrackingEvaluation | None]:
    """(truth-graph, same-particle) edge metrics and the tracking evaluation of one event."""
    edges = None
    if getattr(event, "edge_index", None) is not None:
        target = poi.target_hits(event.pt)
        scores = getattr(event, "edge_score", None)
        same_particle = edge_metrics(event.edge_index, event.track_edges, event.num_nodes, scores=scores,
                                     threshold=edge_cut, particle_id_j=event.particle_id, label="same_particle",
                                     target_j=target)
        # The same kept edges against the truth graph; the AUC was computed once, above.
        kept = event.edge_index if scores is None else event.edge_index[:, scores > edge_cut]
        edges = (edge_metrics(kept, event.track_edges, event.num_nodes, target_j=target), same_particle)
    tracking = None
    if getattr(event, "track_id", None) is not None:
        candidates = TrackCandidates(event.track_hit_id.numpy(), event.track_id.numpy())
        tracking = evaluate_tracks(candidates, EventTruth.from_data(event), poi)
    return edges, tracking


def evaluate_stage_events(
    events: Iterable[tuple[str, Any]],
    *,
    stage_dir: str = "",
    split: str = "",
    poi: ParticlesOfInterest | None = None,
    edge_cut: float = 0.5,
) -> StageReport:
    """Evaluate processed events carrying a stage's outputs (see the module docstring).

    Args:
        events: ``(source, event)`` pairs; ``source`` (e.g. the file) names the event in errors.

    Raises:
        ValueError: no event, an event that cannot be evaluated (named by its source), or
            events that disagree on what they carry.
    """
    poi = poi or ParticlesOfInterest()
    truth_graph: list[EdgeMetrics] = []
    same_particle: list[EdgeMetrics] = []
    evaluations: list[TrackingEvaluation] = []
    n = 0
    for source, event in events:
        n += 1
        try:
            edges, tracking = _evaluate_event(event, poi, edge_cut)
        except (AttributeError, KeyError, ValueError) as err:
            raise ValueError(f"{source}: cannot evaluate this stage output: {err}") from err
        if edges is not None:
            truth_graph.append(edges[0])
            same_particle.append(edges[1])
        if tracking is not None:
            evaluations.append(tracking)
    if n == 0:
        raise ValueError(f"{stage_dir}/{split}: no event to evaluate")
    for name, got in (("a graph (edge_index)", truth_graph), ("track candidates (track_id)", evaluations)):
        if 0 < len(got) < n:
            raise ValueError(f"{stage_dir}/{split}: {len(got)} of {n} events carry {name}; "
                             "the folder mixes outputs of different stages")
    return StageReport(
        stage_dir=stage_dir, split=split, n_events=n, edge_cut=edge_cut, poi=poi,
        edges_truth_graph=EdgeMetrics.combine(truth_graph) if truth_graph else None,
        edges_same_particle=EdgeMetrics.combine(same_particle) if same_particle else None,
        tracking=TrackingEvaluation.concat(evaluations) if evaluations else None,
    )


def stage_scoring_parser(description: str, default_out: Path) -> argparse.ArgumentParser:
    """The command line shared by the scripts that score stage folders' track candidates:
    ``STAGE_DIR [STAGE_DIR ...] [--split test] [--min-pt 1] [--out DIR]``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("stage_dirs", nargs="+")
    parser.add_argument("--split", default="test")
    parser.add_argument("--min-pt", type=float, default=1.0, help="particles of interest: pT > this (GeV)")
    parser.add_argument("--out", type=Path, default=default_out, help="folder for the JSON and Markdown")
    return parser


def load_stage_event(path: Path) -> Any:
    """One stage output file (a processed event with the stage's tensors); its path named on failure."""
    try:
        return torch.load(path, weights_only=False)
    except Exception as err:  # torch/pickle raise many types; none names the file
        raise ValueError(f"{path}: not a readable stage output ({type(err).__name__}: {err})") from err


def stage_candidates(event: Any, path: Path) -> TrackCandidates:
    """A stage event's track candidates (``track_hit_id``, ``track_id``).

    Raises:
        ValueError: the event holds none (naming ``path``).
    """
    if getattr(event, "track_hit_id", None) is None:
        raise ValueError(f"{path}: no track candidates (track_hit_id); predict the stage with a builder")
    return TrackCandidates(event.track_hit_id.numpy(), event.track_id.numpy())


def evaluate_stage(
    stage_dir: str | Path,
    *,
    split: str = "test",
    poi: ParticlesOfInterest | None = None,
    edge_cut: float = 0.5,
    progress: Callable[[list[Path]], Iterable[Path]] | None = None,
) -> StageReport:
    """Read ``stage_dir/split/event*.pt`` and evaluate them (:func:`evaluate_stage_events`)."""
    files = stage_event_files(stage_dir, split)
    it = files if progress is None else progress(files)
    events = ((str(f), load_stage_event(f)) for f in it)
    return evaluate_stage_events(events, stage_dir=str(stage_dir), split=split, poi=poi, edge_cut=edge_cut)
