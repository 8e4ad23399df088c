"""Edge-level metrics for graph construction and edge classification.

An edge is *true* when it joins two consecutive hits of one particle (it is in the truth
graph ``track_edges``, either direction), or, with ``label="same_particle"``, when both hits
belong to the same non-zero particle (the positives of metric learning).

- efficiency: true truth-graph edges present in the (kept) graph, over all truth-graph edges
  (optionally only those whose hits are targets, e.g. of pT > 1 GeV particles);
- purity: true kept edges over kept edges.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from trackcore.arrays import unique_ints
from trackcore.candidates import as_numpy


def _edge_array(name: str, edge_index: Any, num_nodes: int) -> np.ndarray:
    e = as_numpy(edge_index)
    if e.ndim != 2 or e.shape[0] != 2:
        raise ValueError(f"Expected '{name}' of shape (2, E) (got {tuple(e.shape)})")
    e = e.astype(np.int64, copy=False)
    if e.size and (e.min() < 0 or e.max() >= num_nodes):
        raise ValueError(f"'{name}' holds node indices outside [0, {num_nodes})")
    return e


def _undirected_key(e: np.ndarray, num_nodes: int) -> np.ndarray:
    lo, hi = np.minimum(e[0], e[1]), np.maximum(e[0], e[1])
    return lo * np.int64(num_nodes) + hi


def edge_truth(
    edge_index: Any,
    num_nodes: int,
    *,
    track_edges: Any | None = None,
    particle_id_j: Any | None = None,
    label: str = "track_edges",
) -> np.ndarray:
    """Truth label of every edge: in the truth graph (either direction) or same particle.

    Shapes:
        edge_index: (2, E); track_edges: (2, E_true); particle_id_j: (N,); return: (E,) bool.
    """
    e = _edge_array("edge_index", edge_index, num_nodes)
    if label == "track_edges":
        if track_edges is None:
            raise ValueError("label='track_edges' needs track_edges")
        t = _edge_array("track_edges", track_edges, num_nodes)
        return np.isin(_undirected_key(e, num_nodes), _undirected_key(t, num_nodes))
    if label == "same_particle":
        if particle_id_j is None:
            raise ValueError("label='same_particle' needs particle_id_j")
        pid = as_numpy(particle_id_j).astype(np.int64, copy=False)
        if len(pid) != num_nodes:
            raise ValueError(f"Expected 'particle_id_j' of length {num_nodes} (got {len(pid)})")
        return (pid[e[0]] == pid[e[1]]) & (pid[e[0]] != 0)
    raise ValueError(f"label must be 'track_edges' or 'same_particle' (got {label!r})")


@dataclass(frozen=True)
class EdgeMetrics:
    """Edge efficiency and purity of one graph (or of several, when built by :meth:`combine`).

    Attributes:
        n_edges: kept edges (after the score cut when scores are given).
        n_true_kept: kept edges that are true (per ``label``).
        n_target: truth-graph edges counted for efficiency.
        n_target_found: of those, present among the kept edges.
        efficiency, purity: the ratios (NaN when the denominator is 0).
        auc: ROC AUC of the scores against the edge labels over all input edges, when scores
            were given and both classes occur; else NaN.
    """

    n_edges: int
    n_true_kept: int
    n_target: int
    n_target_found: int
    auc: float = float("nan")

    @property
    def efficiency(self) -> float:
        return self.n_target_found / self.n_target if self.n_target else float("nan")

    @property
    def purity(self) -> float:
        return self.n_true_kept / self.n_edges if self.n_edges else float("nan")

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "efficiency": self.efficiency, "purity": self.purity}

    @staticmethod
    def combine(metrics: list[EdgeMetrics]) -> EdgeMetrics:
        """Pool counts over events (AUC is the mean of the finite per-event values)."""
        aucs = [m.auc for m in metrics if np.isfinite(m.auc)]
        return EdgeMetrics(
            n_edges=sum(m.n_edges for m in metrics),
            n_true_kept=sum(m.n_true_kept for m in metrics),
            n_target=sum(m.n_target for m in metrics),
            n_target_found=sum(m.n_target_found for m in metrics),
            auc=float(np.mean(aucs)) if aucs else float("nan"),
        )


def edge_metrics(
    edge_index: Any,
    track_edges: Any,
    num_nodes: int,
    *,
    scores: Any | None = None,
    threshold: float = 0.5,
    particle_id_j: Any | None = None,
    label: str = "track_edges",
    target_j: Any | None = None,
) -> EdgeMetrics:
    """Efficiency and purity of a graph, or of its edges scoring above ``threshold``.

    Args:
        edge_index: the constructed or classified graph (any direction).
        track_edges: the truth graph.
        num_nodes: number of hits.
        scores: per-edge scores (probabilities); edges with ``score > threshold`` are kept.
        threshold: the cut on ``scores``.
        particle_id_j: needed for ``label="same_particle"`` purity.
        label: what counts as a true kept edge: ``"track_edges"`` or ``"same_particle"``.
        target_j: efficiency counts only truth edges whose two hits are targets (e.g. hits
            of pT > 1 GeV particles); all truth edges when None.

    Shapes:
        edge_index: (2, E); track_edges: (2, E_true); scores: (E,); particle_id_j,
        target_j: (N,).
    """
    e = _edge_array("edge_index", edge_index, num_nodes)
    t = _edge_array("track_edges", track_edges, num_nodes)
    y_e = edge_truth(e, num_nodes, track_edges=t, particle_id_j=particle_id_j, label=label)
    auc = float("nan")
    keep = np.ones(e.shape[1], dtype=bool)
    if scores is not None:
        s = as_numpy(scores, np.float64).ravel()
        if len(s) != e.shape[1]:
            raise ValueError(f"Expected one score per edge (got {len(s)} scores for {e.shape[1]} edges)")
        if not np.isfinite(s).all():
            raise ValueError(f"{int((~np.isfinite(s)).sum())} edge scores are NaN or infinite")
        keep = s > threshold
        if 0 < y_e.sum() < len(y_e):
            from sklearn.metrics import roc_auc_score

            auc = float(roc_auc_score(y_e, s))
    if target_j is not None:
        tgt = as_numpy(target_j, bool).ravel()
        if len(tgt) != num_nodes:
            raise ValueError(f"Expected 'target_j' of length {num_nodes} (got {len(tgt)})")
        t = t[:, tgt[t[0]] & tgt[t[1]]]
    target_keys = unique_ints(_undirected_key(t, num_nodes))
    found = np.isin(target_keys, _undirected_key(e[:, keep], num_nodes))
    return EdgeMetrics(
        n_edges=int(keep.sum()),
        n_true_kept=int((y_e & keep).sum()),
        n_target=len(target_keys),
        n_target_found=int(found.sum()),
        auc=auc,
    )
