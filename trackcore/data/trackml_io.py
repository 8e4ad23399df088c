"""Reading and writing TrackML CSV events exactly as the challenge defines them.

An event is a file prefix such as ``train_1/event000001000``, with the tables
``<prefix>-hits.csv``, ``-cells.csv``, ``-particles.csv``, ``-truth.csv`` (or the
``-truth-partial.csv`` of ``../shared/data/trackml_real_partial``), each ``.csv`` or
``.csv.gz``. Only ``hits`` is required. Events written in the ACTS CSV layout
(``-measurements.csv``) are recognised and read by :mod:`trackcore.data.acts_io`.

Reading never changes a value silently: integer ids are parsed exactly (no float rounding,
no wrap-around beyond int64), a repeated column name, a row longer than the header or a
plain CSV without its final newline (cut short) is an error, and with a detector
description (``detectors.csv`` beside the event, or given) every hit must lie on one of
its layers. Writing is atomic: a visible hits file means the whole event is there.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from trackcore.data.acts_io import read_acts_event
from trackcore.data.csv_tables import (  # re-exported: the TrackML reader's public helpers
    _SUFFIXES,
    DETECTOR_FILES,
    _resolve_prefix,
    detector_layers,
    event_id_of,
    event_prefix,
    find_detectors,
    list_events,
    read_detectors,
    read_table,
    table_path,
)
from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.schema import CELLS, HITS, PARTICLES, TRUTH, TRUTH_PARTIAL
from trackcore.data.validation import check_hit_layers, validate_event

__all__ = ["DETECTOR_FILES", "detector_layers", "event_id_of", "event_prefix", "find_detectors", "list_events",
           "read_detectors", "read_event", "read_events", "read_table", "table_path", "write_event"]

def read_event(path: str | Path, *, validate: bool = True, detectors: str | Path | None = None) -> Event:
    """Read one event from its prefix, any of its files, or a folder holding one event.

    Truth is ``full`` with a ``-truth`` table, ``partial`` with a ``-truth-partial``
    table, else ``none``. ACTS CSV events (those with a ``-measurements`` table, whose ``-hits`` table holds
    simulated hits) are dispatched to :func:`trackcore.data.acts_io.read_acts_event`.

    Args:
        path: event prefix, one of its files, or a folder with one event.
        validate: check the relations between the tables (:func:`validate_event`).
        detectors: the detector description (``detectors.csv``) the hits must lie on; by
            default the ``detectors.csv[.gz]`` in the event's folder, when there is one.
            With validation, every hit's (volume_id, layer_id) must be one of its layers.

    Raises:
        DataError: a missing hits file or any problem found by the checks.
    """
    prefix = _resolve_prefix(path)
    if table_path(prefix, "measurements") is not None:
        return read_acts_event(prefix, validate=validate, detectors=detectors)
    hits_path = table_path(prefix, "hits")
    if hits_path is None:
        raise DataError(f"{prefix}-hits.csv", "file not found (every event needs a hits table)")
    hits = read_table(hits_path, HITS)
    tables = {}
    for spec in (CELLS, PARTICLES):
        p = table_path(prefix, spec.name)
        tables[spec.name] = None if p is None else read_table(p, spec)
    truth_path, partial_path = table_path(prefix, "truth"), table_path(prefix, "truth-partial")
    if truth_path is not None and partial_path is not None:
        raise DataError(prefix, "has both a truth and a truth-partial table; keep one")
    truth, kind = None, "none"
    if truth_path is not None:
        truth, kind = read_table(truth_path, TRUTH), "full"
    elif partial_path is not None:
        truth, kind = read_table(partial_path, TRUTH_PARTIAL), "partial"
    event = Event(
        event_id=event_id_of(prefix),
        hits=hits,
        particles=tables["particles"],
        truth=truth,
        cells=tables["cells"],
        truth_kind=kind,
        source=str(prefix),
    )
    if validate:
        validate_event(event)
        det_path = Path(detectors) if detectors is not None else find_detectors(prefix)
        if det_path is not None:
            if not det_path.is_file():
                raise DataError(det_path, "file not found (the detector description)")
            check_hit_layers(hits, detector_layers(det_path), hits_path=str(hits_path),
                             detectors_path=str(det_path))
    return event


def read_events(folder: str | Path, *, validate: bool = True,
                detectors: str | Path | None = None) -> Iterator[Event]:
    """Read every event of a folder, in event-id order (arguments as :func:`read_event`)."""
    for prefix in list_events(folder):
        yield read_event(prefix, validate=validate, detectors=detectors)


def write_event(event: Event, out_dir: str | Path, *, compress: bool = False) -> Path:
    """Write an event as TrackML CSV files, atomically; returns its prefix.

    Floats are written in full precision so that reading back gives identical tables.
    Partial truth is written as ``-truth-partial``.

    Every table is first written in full to a hidden temporary file in ``out_dir``
    (``.event<id>-<table>.csv.<random>.tmp``, which no reader lists); then the tables are
    renamed into place, cells, particles and truth first and hits last, so a visible hits
    file means the event is complete (a killed writer leaves only hidden temporary files,
    or tables without hits, which are no event). An event already at this prefix is
    replaced whole: its hits go first, then every table of it that the new event does not
    have (an old ``-cells``, the other truth kind, the other of ``.csv``/``.csv.gz``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / event.name
    ext = ".csv.gz" if compress else ".csv"
    truth_name = "truth-partial" if event.truth_kind == "partial" else "truth"
    tables = [(name, table) for name, table in (("cells", event.cells), ("particles", event.particles),
                                                (truth_name, event.truth), ("hits", event.hits))
              if table is not None]
    written: list[tuple[str, Path]] = []
    try:
        for name, table in tables:
            final = Path(f"{prefix}-{name}{ext}")
            fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{final.name}.", suffix=".tmp")
            written.append((name, Path(tmp)))
            with os.fdopen(fd, "wb") as f:
                table.to_csv(f, index=False, compression="gzip" if compress else None)
                f.flush()
                os.fsync(f.fileno())
        keep = {f"{prefix.name}-{name}{ext}" for name, _ in tables}
        old = [prefix.parent / f"{prefix.name}-{name}{suffix}"
               for name in ("hits", "cells", "particles", "truth", "truth-partial") for suffix in _SUFFIXES]
        for path in old:
            if path.name not in keep or path.name.startswith(f"{prefix.name}-hits."):
                path.unlink(missing_ok=True)
        for name, tmp in written:
            os.replace(tmp, f"{prefix}-{name}{ext}")
    except BaseException:
        for _, tmp in written:
            tmp.unlink(missing_ok=True)
        raise
    return prefix
