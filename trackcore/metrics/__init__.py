"""One implementation of every tracking metric: TrackML score, DM/LHC/perfect efficiency,
fake and duplicate rates (also binned, with Clopper-Pearson intervals), edge metrics."""

from trackcore.metrics.binning import ETA_BINS, PT_BINS, BinnedRate, binned_rate, clopper_pearson
from trackcore.metrics.edges import EdgeMetrics, edge_metrics, edge_truth
from trackcore.metrics.matching import SCHEMES, TrackMatches, match_tracks
from trackcore.metrics.tracking import TrackingEvaluation, evaluate_events, evaluate_tracks
from trackcore.metrics.trackml_score import trackml_score
from trackcore.metrics.truth import EventTruth, ParticlesOfInterest

__all__ = [
    "ETA_BINS", "PT_BINS", "SCHEMES", "BinnedRate", "EdgeMetrics", "EventTruth", "ParticlesOfInterest",
    "TrackMatches", "TrackingEvaluation", "binned_rate", "clopper_pearson", "edge_metrics", "edge_truth",
    "evaluate_events", "evaluate_tracks", "match_tracks", "trackml_score",
]
