"""Why particles of interest were missed: where in the chain each one was lost, prompt or displaced.

A missed particle (no DM match) of a predicted stage event is put in the first of these that holds:

- ``graph``: a truth edge of the particle (``track_edges``: consecutive hits of one particle) is
  not in the event's graph (``edge_index``), so no edge score could join those hits;
- ``scores``: every truth edge is in the graph but one scores below the edge cut;
- then, the graph and its scores holding the particle (or the stage having no graph, as EggNet's),
  track building or the refinement lost it, as the final candidates show: ``unassigned`` (no
  candidate of >= 3 hits holds any of its hits: never built, or dropped, e.g. by the quality cut),
  ``split`` (the candidate holding most of its hits holds at most half of them) or ``merged`` (one
  candidate holds most of its hits, but they are at most half of that candidate).

Independently, each particle is ``prompt`` (production vertex within ``prompt_radius`` mm of the
beam line) or ``displaced`` (a secondary: decays, interactions; its hits do not point back to the
beam line, so trackers assuming prompt particles lose it). Unknown vertices count as prompt.

Usage::

    from trackcore.metrics.misses import missed_particles
    table = missed_particles(event, candidates, ParticlesOfInterest(), edge_cut=0.5)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.metrics.matching import match_tracks
from trackcore.metrics.tracking import evaluate_tracks
from trackcore.metrics.truth import EventTruth, ParticlesOfInterest

REASONS = ("graph", "scores", "unassigned", "split", "merged")
"""Where a missed particle was lost, in the chain's order."""


@dataclass
class MissCounts:
    """Particles of interest and misses, counted by origin (``prompt``/``displaced``) and reason.

    ``total[origin]``: particles of interest; ``missed[(origin, reason)]``: those missed.
    """

    total: Counter = field(default_factory=Counter)
    missed: Counter = field(default_factory=Counter)

    def add(self, other: MissCounts) -> MissCounts:
        """Pool another event's counts into these (returns self)."""
        self.total.update(other.total)
        self.missed.update(other.missed)
        return self

    def efficiency(self, origin: str | None = None) -> float:
        """DM efficiency of the particles of ``origin`` (all when None); NaN without particles."""
        origins = ("prompt", "displaced") if origin is None else (origin,)
        n = sum(self.total[o] for o in origins)
        lost = sum(v for (o, _), v in self.missed.items() if o in origins)
        return (n - lost) / n if n else float("nan")


def missed_particles(event: Any, candidates: TrackCandidates, poi: ParticlesOfInterest | None = None, *,
                     edge_cut: float = 0.5, prompt_radius: float = 1.0) -> MissCounts:
    """Count one predicted event's particles of interest and its misses (see the module docstring).

    Args:
        event: a stage event with its truth (``particle_id``, ``pt``, the particle table with
            ``particle_table_vertex``), and, where the family has one, ``edge_index``,
            ``track_edges`` and ``edge_score``.
        candidates: its track candidates.
        edge_cut: the score below which an edge is cut.
        prompt_radius: largest transverse distance (mm) of a prompt particle's production vertex.

    Shapes:
        event.edge_index: (2, E); event.track_edges: (2, T); event.edge_score: (E,).
    """
    poi = poi or ParticlesOfInterest()
    truth = EventTruth.from_data(event)
    particles = evaluate_tracks(candidates, truth, poi).particles
    interest = particles[particles["of_interest"]]
    vertex_r = _vertex_radius(event)
    counts = MissCounts()
    pid_j = as_numpy(event.particle_id).astype(np.int64)
    lost_graph, lost_score = _edge_losses(event, pid_j, edge_cut)
    held = _best_completeness(candidates, truth, poi.min_candidate_hits)
    for pid, found in zip(interest["particle_id"].to_numpy(), interest["dm"].to_numpy(), strict=True):
        origin = "displaced" if vertex_r.get(int(pid), 0.0) > prompt_radius else "prompt"
        counts.total[origin] += 1
        if found:
            continue
        if pid in lost_graph:
            reason = "graph"
        elif pid in lost_score:
            reason = "scores"
        else:
            completeness = held.get(int(pid), 0.0)
            reason = "unassigned" if completeness == 0 else "split" if completeness <= 0.5 else "merged"
        counts.missed[(origin, reason)] += 1
    return counts


def _best_completeness(candidates: TrackCandidates, truth: EventTruth, min_size: int) -> dict[int, float]:
    """For each particle, the fraction of its hits held by the candidate (of >= ``min_size`` hits)
    holding most of them (:func:`~trackcore.metrics.matching.match_tracks`' overlaps); absent: none."""
    if not len(candidates):
        return {}
    m = match_tracks(candidates, truth)
    keep = m.size_t[m.pair_track] >= min_size
    pid = np.asarray(truth.particle_id_p)[m.pair_particle[keep]]
    best: dict[int, float] = {}
    for p, c in zip(pid.tolist(), m.completeness[keep].tolist(), strict=True):
        best[p] = max(best.get(p, 0.0), c)
    return best


def _vertex_radius(event: Any) -> dict[int, float]:
    """Each particle's production-vertex distance from the beam line (mm); NaN vertices left out."""
    if not hasattr(event, "particle_table_vertex"):
        return {}
    ids = as_numpy(event.particle_table_id).astype(np.int64)
    vertex = as_numpy(event.particle_table_vertex).astype(np.float64)
    r = np.hypot(vertex[:, 0], vertex[:, 1])
    return {int(i): float(v) for i, v in zip(ids, r, strict=True) if np.isfinite(v)}


def _edge_losses(event: Any, pid_j: np.ndarray, edge_cut: float) -> tuple[set[int], set[int]]:
    """Particles with a truth edge missing from the graph, and those with one scored below the cut."""
    if getattr(event, "edge_index", None) is None or getattr(event, "track_edges", None) is None:
        return set(), set()
    n = len(pid_j)
    edges = as_numpy(event.edge_index).astype(np.int64)
    key_e = np.minimum(edges[0], edges[1]) * n + np.maximum(edges[0], edges[1])
    truth = as_numpy(event.track_edges).astype(np.int64)
    truth = truth[:, (pid_j[truth[0]] == pid_j[truth[1]]) & (pid_j[truth[0]] > 0)]
    key_t = np.minimum(truth[0], truth[1]) * n + np.maximum(truth[0], truth[1])
    in_graph = np.isin(key_t, key_e)
    lost_graph = set(pid_j[truth[0][~in_graph]].tolist())
    lost_score: set[int] = set()
    if getattr(event, "edge_score", None) is not None:
        score = as_numpy(event.edge_score).astype(np.float64)
        unique_e, inverse = np.unique(key_e, return_inverse=True)
        best = np.full(len(unique_e), -np.inf)
        np.maximum.at(best, inverse, score)  # an edge may be held in both directions: its best score
        where = np.minimum(np.searchsorted(unique_e, key_t), max(len(unique_e) - 1, 0))
        low = in_graph & (best[where] < edge_cut) if len(unique_e) else np.zeros(len(key_t), bool)
        lost_score = set(pid_j[truth[0][low]].tolist())
    return lost_graph, lost_score
