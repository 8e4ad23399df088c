"""Training harness: one LightningModule base, the LightningCLI entry point, loggers, stage writer."""

from trackcore.train.clustering import ClusteringTrackingModule
from trackcore.train.module import LossOutput, TrackingModule, batch_events, gather_by_event, input_graph
from trackcore.train.writer import StageWriter

__all__ = [
    "ClusteringTrackingModule",
    "LossOutput",
    "StageWriter",
    "TrackingModule",
    "batch_events",
    "gather_by_event",
    "input_graph",
]
