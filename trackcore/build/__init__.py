"""Track building: from scored graphs, embeddings or soft assignments to track candidates.

Every builder returns a :class:`TrackCandidates` ``(hit_id, track_id)`` table.

>>> from trackcore.build import connected_components, cc_and_walk, dbscan, assign
>>> tracks = connected_components(edge_index, num_hits, scores=scores, threshold=0.5, hit_id=hit_id)
>>> tracks = dbscan(embedding, eps=0.1, min_samples=3, hit_id=hit_id)
>>> tracks = HelixRefinement()(tracks, pos, hit_id)  # clean, merge and extend with a helix fit
"""

from __future__ import annotations

import importlib
from typing import Any

from trackcore.build.candidates import TrackCandidates, as_numpy

# The builders import torch, scipy and scikit-learn: load them on first use so that
# `trackcore.metrics` (which needs only the candidate table) stays light.
_LAZY = {
    **dict.fromkeys(
        [
            "AssignmentMethod",
            "AssignmentOptions",
            "argmax_assignment",
            "assign",
            "matching_assignment",
            "max_weight_matching",
            "module_key",
            "threshold_assignment",
            "topk_assignment",
        ],
        "trackcore.build.assignment",
    ),
    **dict.fromkeys(["component_labels", "connected_components"], "trackcore.build.components"),
    **dict.fromkeys(["SeedNeighbors", "condensation_clustering", "condensation_graph"],
                    "trackcore.build.condensation"),
    "scan_condensation": "trackcore.build.condensation_scan",
    **dict.fromkeys(
        ["BuilderScan", "NoFiniteObjectiveError", "dm_efficiency_minus_fake_rate", "scan_result"],
        "trackcore.build.scan",
    ),
    **dict.fromkeys(
        ["dbscan", "dbscan_graph", "dbscan_labels", "labels_from_graph"], "trackcore.build.dbscan_clustering"
    ),
    **dict.fromkeys(["DBSCANScan", "scan_dbscan"], "trackcore.build.dbscan_scan"),
    "hdbscan": "trackcore.build.hdbscan_clustering",
    "cc_and_walk": "trackcore.build.walkthrough",
    **dict.fromkeys(["HelixFits", "HelixRefinement", "fit_helices"], "trackcore.build.refine"),
}

__all__ = ["TrackCandidates", "as_numpy", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'trackcore.build' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
