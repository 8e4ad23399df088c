"""TrackML data layer: I/O, validation, selections, simulation, processing to PyG, datasets.

The torch-based parts (processing, dataset, datamodule) and the simulation are imported on
first use, so reading and inspecting CSV files does not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from trackcore.data.acts_io import read_acts_event
from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.schema import ALL_VOLUMES, PIXEL_VOLUMES
from trackcore.data.selection import SelectionReport, pt1_pixel_benchmark, select_hits
from trackcore.data.summary import EventSummary, summarize
from trackcore.data.trackml_io import list_events, read_detectors, read_event, read_events, write_event
from trackcore.data.validation import check_table, validate_event
from trackcore.data.weights import official_trackml_weights, trackml_weights

_LAZY = {
    "ProcessingConfig": "trackcore.data.processing",
    "process_event": "trackcore.data.processing",
    "get_benchmark": "trackcore.data.processing",
    "BENCHMARKS": "trackcore.data.processing",
    "TrackEventData": "trackcore.data.processing",
    "hit_features": "trackcore.data.features",
    "feature_names": "trackcore.data.features",
    "build_track_edges": "trackcore.data.truth_graph",
    "event_track_edges": "trackcore.data.truth_graph",
    "prepare_dataset": "trackcore.data.dataset",
    "ProcessedEventDataset": "trackcore.data.dataset",
    "TrackMLDataModule": "trackcore.data.datamodule",
    "simulate_event": "trackcore.data.simulation",
    "simulate_events": "trackcore.data.simulation",
    "get_preset": "trackcore.data.simulation",
    "PRESETS": "trackcore.data.simulation",
}

__all__ = [
    "ALL_VOLUMES", "PIXEL_VOLUMES", "DataError", "Event", "EventSummary", "SelectionReport",
    "check_table", "list_events", "pt1_pixel_benchmark", "read_acts_event", "read_detectors",
    "read_event", "read_events", "select_hits", "summarize", "trackml_weights", "official_trackml_weights",
    "validate_event", "write_event", *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'trackcore.data' has no attribute {name!r}")
