"""Training harness: one LightningModule base, the LightningCLI entry point, loggers, stage writer."""

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
from trackcore.train.schedule import RunCosineAnnealingLR, ScheduleLengthError, epochs_of_run
from trackcore.train.writer import StageWriter

__all__ = [
    "LossOutput",
    "RunCosineAnnealingLR",
    "ScheduleLengthError",
    "StageWriter",
    "TrackingModule",
    "batch_events",
    "check_edge_score_cut",
    "check_input_keys",
    "epochs_of_run",
    "gather_by_event",
    "input_graph",
    "node_features",
    "with_outputs",
]
