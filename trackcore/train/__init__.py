"""Training harness: one LightningModule base, the LightningCLI entry point, loggers, stage writer."""

from trackcore.train.module import LossOutput, TrackingModule
from trackcore.train.writer import StageWriter

__all__ = ["LossOutput", "StageWriter", "TrackingModule"]
