"""Track building: from scored graphs, embeddings or soft assignments to track candidates.

Every builder returns a :class:`~trackcore.candidates.TrackCandidates` ``(hit_id, track_id)`` table.

>>> from trackcore.builders import connected_components, cc_and_walk, dbscan, assign
>>> tracks = connected_components(edge_index, num_hits, scores=scores, threshold=0.5, hit_id=hit_id)
>>> tracks = dbscan(embedding, eps=0.1, min_samples=3, hit_id=hit_id)
"""

from trackcore.builders.assignment import (
    AssignmentMethod,
    AssignmentOptions,
    argmax_assignment,
    assign,
    matching_assignment,
    module_key,
    threshold_assignment,
    topk_assignment,
)
from trackcore.builders.components import component_labels, connected_components
from trackcore.builders.condensation import SeedNeighbors, condensation_clustering, condensation_graph
from trackcore.builders.condensation_scan import scan_condensation
from trackcore.builders.dbscan_clustering import dbscan, dbscan_graph, dbscan_labels, labels_from_graph
from trackcore.builders.dbscan_scan import DBSCANScan, scan_dbscan
from trackcore.builders.hdbscan_clustering import hdbscan
from trackcore.builders.scan import BuilderScan, NoFiniteObjectiveError, dm_efficiency_minus_fake_rate, scan_result
from trackcore.builders.walkthrough import cc_and_walk

__all__ = [
    "AssignmentMethod", "AssignmentOptions", "BuilderScan", "DBSCANScan", "NoFiniteObjectiveError", "SeedNeighbors",
    "argmax_assignment", "assign", "cc_and_walk", "component_labels", "condensation_clustering",
    "condensation_graph", "connected_components", "dbscan", "dbscan_graph", "dbscan_labels",
    "dm_efficiency_minus_fake_rate", "hdbscan", "labels_from_graph", "matching_assignment", "module_key",
    "scan_condensation", "scan_dbscan", "scan_result", "threshold_assignment", "topk_assignment",
]
