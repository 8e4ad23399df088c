"""The JSON files ACTS reads, written from code: digitisation and seeding layer selection.

The pyacts wheel ships none of the example JSON configs; these follow ../shared/ACTS.md
(measured on this machine) for the Generic detector, whose volume ids are TrackML's
(pixel 7/8/9, short strips 12/13/14, long strips 16/17/18).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

PIXEL_VOLUMES = (7, 8, 9)
SHORT_STRIP_VOLUMES = (12, 13, 14)
LONG_STRIP_VOLUMES = (16, 17, 18)
PITCH_MM = {
    # volume group: (pitch along local0, pitch along local1) in mm
    PIXEL_VOLUMES: (0.05, 0.05),
    SHORT_STRIP_VOLUMES: (0.08, 1.2),
    LONG_STRIP_VOLUMES: (0.12, 10.8),
}
SEEDING_LAYERS = {8: (2, 4, 6, 8), 9: (2, 4, 6, 8), 7: (14, 12, 10, 8)}
"""Pixel layers used for seeding space points: barrel (8) and both end-caps (7, 9)."""
DIGITIZATION_MODES = ("smearing",)
"""Geometric (clustering) digitisation is not offered yet: the JSON we wrote for it was refused by
ACTS 48's reader (``readDigiConfigFromJson``: type_error.305) and the format is undocumented in the wheel."""


def _hierarchy_map(entries: list[dict]) -> dict:
    return {
        "acts-geometry-hierarchy-map": {"format-version": 0, "value-identifier": "digitization-configuration"},
        "entries": entries,
    }


def digitization_config(mode: str = "smearing") -> dict:
    """ACTS digitisation configuration of the Generic detector.

    ``smearing``: one measurement per simulated hit, Gaussian with sigma = pitch / sqrt(12) per
    axis (no clusters, merged hits or noise, so fake rates look better than with clustering).
    """
    if mode not in DIGITIZATION_MODES:
        raise ValueError(f"unknown digitization mode {mode!r}; choose one of {DIGITIZATION_MODES}")
    entries = []
    for volumes, (p0, p1) in PITCH_MM.items():
        for volume in volumes:
            smearing = [
                {"index": i, "mean": 0.0, "stddev": p / math.sqrt(12.0), "type": "Gauss"}
                for i, p in enumerate((p0, p1))
            ]
            entries.append({"volume": volume, "value": {"smearing": smearing}})
    return _hierarchy_map(entries)


def seeding_selection() -> list[dict]:
    """The geometry list of the seeding space points (``readJsonGeometryList`` reads a bare list)."""
    return [{"volume": volume, "layer": layer} for volume, layers in SEEDING_LAYERS.items() for layer in layers]


def write_json(obj: object, path: str | Path) -> Path:
    """Write ``obj`` as JSON (creating the folder); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1) + "\n")
    return path
