"""Track building: from scored graphs, embeddings or soft assignments to track candidates.

The builders a task module takes by ``class_path`` (each one call ``(event, outputs) ->
TrackCandidates``, :mod:`trackcore.builders.base`): :class:`EdgeComponents` (CC, CC and walk),
:class:`DBSCANBuilder`, :class:`CondensationPoints`, :class:`HDBSCANBuilder` and
:class:`SoftAssignment`; :class:`LeftoverComponents`, :class:`LeftoverClusters` and
:class:`LeftoverAssignment` (:class:`SecondPass`) are a module's second pass over the hits the
refined first-pass candidates leave; :func:`scan_builder` tries a grid of a builder's settings.
The functions under them work on plain arrays:

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
from trackcore.builders.assignment_builder import SoftAssignment
from trackcore.builders.base import Grid, TrackBuilder, grid_points
from trackcore.builders.clustering import CondensationPoints, DBSCANBuilder, HDBSCANBuilder
from trackcore.builders.components import component_labels, connected_components
from trackcore.builders.condensation import SeedNeighbors, condensation_clustering, condensation_graph
from trackcore.builders.dbscan_clustering import dbscan, dbscan_graph, dbscan_labels, labels_from_graph
from trackcore.builders.graph_builders import EdgeComponents
from trackcore.builders.hdbscan_clustering import hdbscan
from trackcore.builders.leftover import (
    LeftoverAssignment,
    LeftoverClusters,
    LeftoverComponents,
    SecondPass,
    taken_hits,
)
from trackcore.builders.scan import (
    BuilderScan,
    NoFiniteObjectiveError,
    ScanEvent,
    dm_efficiency_minus_fake_rate,
    scan_builder,
    scan_result,
)
from trackcore.builders.walkthrough import cc_and_walk

__all__ = [
    "AssignmentMethod", "AssignmentOptions", "BuilderScan", "CondensationPoints", "DBSCANBuilder", "EdgeComponents",
    "Grid", "HDBSCANBuilder", "LeftoverAssignment", "LeftoverClusters", "LeftoverComponents", "NoFiniteObjectiveError",
    "ScanEvent", "SecondPass", "SeedNeighbors",
    "SoftAssignment", "TrackBuilder", "argmax_assignment", "assign", "cc_and_walk", "component_labels",
    "condensation_clustering", "condensation_graph", "connected_components", "dbscan", "dbscan_graph", "dbscan_labels",
    "dm_efficiency_minus_fake_rate", "grid_points", "hdbscan", "labels_from_graph", "matching_assignment",
    "module_key", "scan_builder", "scan_result", "taken_hits", "threshold_assignment", "topk_assignment",
]
