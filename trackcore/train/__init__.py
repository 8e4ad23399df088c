"""Training harness: one LightningModule base, the LightningCLI entry point, loggers, stage writer."""

from trackcore.train.clustering import ClusteringTrackingModule
from trackcore.train.module import (
    LossOutput,
    TrackingModule,
    batch_events,
    check_edge_score_cut,
    check_input_keys,
    gather_by_event,
    input_graph,
    node_features,
    with_outputs,
)
from trackcore.train.writer import StageWriter

__all__ = [
    "ClusteringTrackingModule",
    "LossOutput",
    "StageWriter",
    "TrackingModule",
    "batch_events",
    "check_edge_score_cut",
    "check_input_keys",
    "gather_by_event",
    "input_graph",
    "node_features",
    "with_outputs",
]
