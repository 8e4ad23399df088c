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
GEOMETRIC_SEGMENTATION = {
    # volume group: (half-length local0 mm, bins, half-length local1 mm, bins, sensor thickness mm), the
    # Generic detector's module sizes and pitches (as in ACTS's generic geometric digitisation example):
    # pixels 50 um x 50 um, short strips 80 um x 1.2 mm, long strips 120 um x 10.4 mm
    PIXEL_VOLUMES: (8.4, 336, 36.0, 1440, 0.15),
    SHORT_STRIP_VOLUMES: (24.2, 605, 78.0, 130, 0.25),
    LONG_STRIP_VOLUMES: (72.0, 1200, 78.0, 15, 0.35),
}
DIGITIZATION_MODES = ("smearing", "geometric")
"""``smearing``: one Gaussian-smeared measurement per simulated hit. ``geometric``: the path of each
particle through the sensor is split into the cells it crosses and neighbouring cells are clustered,
so nearby particles merge into one measurement (more realistic fakes)."""


def _hierarchy_map(entries: list[dict]) -> dict:
    return {
        "acts-geometry-hierarchy-map": {"format-version": 0, "value-identifier": "digitization-configuration"},
        "entries": entries,
    }


def digitization_config(mode: str = "smearing") -> dict:
    """ACTS digitisation configuration of the Generic detector.

    ``smearing``: one measurement per simulated hit, Gaussian with sigma = pitch / sqrt(12) per
    axis (no clusters, merged hits or noise, so fake rates look better than with clustering).
    ``geometric``: cells of :data:`GEOMETRIC_SEGMENTATION` per volume (one entry per volume: a
    module smaller than the grid leaves its outer cells unused), no charge threshold, 1% Gaussian
    charge smearing; ACTS clusters touching cells into one measurement.
    """
    if mode not in DIGITIZATION_MODES:
        raise ValueError(f"unknown digitization mode {mode!r}; choose one of {DIGITIZATION_MODES}")
    entries = []
    if mode == "geometric":
        for volumes, (h0, n0, h1, n1, thickness) in GEOMETRIC_SEGMENTATION.items():
            binning = [
                {"bins": n, "max": h, "min": -h, "option": "open", "type": "equidistant", "value": axis}
                for axis, h, n in (("binX", h0, n0), ("binY", h1, n1))
            ]
            geometric = {
                "digital": False,
                "indices": [0, 1],
                "segmentation": {"binningdata": binning},
                "thickness": thickness,
                "threshold": 0.0,
                "charge-smearing": {"mean": 0.0, "stddev": 0.01, "type": "Gauss"},
            }
            entries += [{"volume": volume, "value": {"geometric": geometric}} for volume in volumes]
        return _hierarchy_map(entries)
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
