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

import csv
import gzip
import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.schema import CELLS, DETECTORS, HITS, PARTICLES, TRUTH, TRUTH_PARTIAL, TableSpec
from trackcore.data.validation import check_hit_layers, check_table, validate_event

_EVENT_RE = re.compile(r"^(event(\d+))-")
_SUFFIXES = (".csv", ".csv.gz")


def table_path(prefix: str | Path, name: str) -> Path | None:
    """The file of table ``name`` of the event ``prefix`` (``.csv`` or ``.csv.gz``), or None."""
    prefix = Path(prefix)
    found = [p for s in _SUFFIXES if (p := prefix.parent / f"{prefix.name}-{name}{s}").is_file()]
    if len(found) > 1:
        raise DataError(prefix, f"both {found[0].name} and {found[1].name} exist; keep one")
    return found[0] if found else None


def _header(path: Path) -> list[str]:
    """The column names of the first line of a CSV file (``.gz`` unpacked), as written."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        return next(csv.reader([f.readline()]), [])


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return True
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"


def read_table(path: str | Path, spec: TableSpec) -> pd.DataFrame:
    """Read and check one TrackML table file.

    Integer columns are read exactly: pandas parses them as int64 when every value is a
    plain int64 integer; any other column of the spec's integers (written as floats,
    empty cells, beyond int64) is read again as text and parsed exactly by
    :func:`~trackcore.data.validation.check_table`, which names the column and line.

    Raises:
        DataError: file missing, unreadable, a repeated column name, a first row with more
            fields than the header, or failing :func:`check_table`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"file not found (the TrackML {spec.name} table)")
    try:
        df = pd.read_csv(path, low_memory=False)
        header = _header(path)
    except pd.errors.EmptyDataError:
        raise DataError(path, "file is empty (no header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, zlib.error) as err:
        raise DataError(path, f"cannot be parsed as CSV: {err}") from None
    if not path.name.endswith(".gz") and not _ends_with_newline(path):
        # A gzip stream knows its length; a plain CSV cut mid-line would read as valid,
        # with its last value shortened (0.1234 -> 0.12).
        raise DataError(path, "does not end with a newline: the last line is cut (a truncated file?)")
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise DataError(path, f"column(s) {repeated} appear more than once in the header (line 1)")
    # pandas takes the first column as the row index when line 2 has one field more than
    # the header: the columns would silently shift by one.
    if not df.index.equals(pd.RangeIndex(len(df))):
        raise DataError(path, f"line 2 has more fields than the {len(header)} columns of the header")
    # A leading unnamed column is a pandas index written by to_csv(index=True) (e.g. the
    # gnn_tracking copy of detectors.csv): it carries no data, so it is not a loss to skip it.
    if len(df.columns) and str(df.columns[0]).startswith("Unnamed: 0"):
        df = df.drop(columns=df.columns[0])
    inexact = [c for c, kind in spec.columns.items()
               if kind == "i" and c in df.columns and len(df) and df[c].dtype.kind not in "iu"]
    if inexact:
        try:
            text = pd.read_csv(path, usecols=inexact, dtype=str, keep_default_na=False, low_memory=False)
        except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, zlib.error, ValueError) as err:
            raise DataError(path, f"cannot be parsed as CSV: {err}") from None
        if len(text) != len(df):
            raise DataError(path, "rows changed between two reads of the file")
        for c in inexact:
            df[c] = text[c].to_numpy(dtype=object)
    return check_table(df, spec, str(path))


def event_prefix(path: str | Path) -> Path:
    """The event prefix of a path: ``dir/event000001000`` from any of its files or itself."""
    path = Path(path)
    m = _EVENT_RE.match(path.name + "-")
    if m is None:
        raise DataError(path, "not a TrackML event path (expected a name like event000001000[-hits.csv])")
    return path.parent / m.group(1)


def event_id_of(prefix: str | Path) -> int:
    """The event number of a prefix: 1000 for ``dir/event000001000``."""
    return int(_EVENT_RE.match(Path(prefix).name + "-").group(2))


def list_events(folder: str | Path) -> list[Path]:
    """Prefixes of all events in ``folder`` (those with a hits or measurements table), sorted.

    Raises:
        DataError: the folder is missing or holds no event; two prefixes name the same
            event id (``event1000-hits.csv`` beside ``event000001000-hits.csv``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "folder not found")
    files = sorted(p for pattern in ("event*-hits.csv*", "event*-measurements.csv*")
                   for p in folder.glob(pattern))
    by_id: dict[int, dict[Path, Path]] = {}
    for p in files:
        prefix = event_prefix(p)
        by_id.setdefault(event_id_of(prefix), {}).setdefault(prefix, p)
    for event_id, prefixes in by_id.items():
        if len(prefixes) > 1:
            names = " and ".join(p.name for p in list(prefixes.values())[:2])
            raise DataError(folder, f"{names} are two prefixes of the same event id {event_id}; keep one")
    if not by_id:
        raise DataError(folder, "no TrackML events found (no event*-hits.csv[.gz] files)")
    return sorted(prefix for prefixes in by_id.values() for prefix in prefixes)


def _resolve_prefix(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists() and _EVENT_RE.match(path.name + "-") is None:
        raise DataError(path, "no such file or folder")
    if path.is_dir():
        events = list_events(path)
        if len(events) != 1:
            raise DataError(path, f"folder holds {len(events)} events; pass one event prefix or use read_events")
        return events[0]
    return event_prefix(path)


DETECTOR_FILES = ("detectors.csv", "detectors.csv.gz")
"""Names of the detector description that :func:`read_event` finds beside an event."""


def find_detectors(prefix: str | Path) -> Path | None:
    """The ``detectors.csv[.gz]`` in the event's folder (the TrackML layout), or None.

    Raises:
        DataError: both ``detectors.csv`` and ``detectors.csv.gz`` are there.
    """
    folder = Path(prefix).parent
    found = [folder / n for n in DETECTOR_FILES if (folder / n).is_file()]
    if len(found) > 1:
        raise DataError(folder, f"both {found[0].name} and {found[1].name} exist; keep one")
    return found[0] if found else None


@lru_cache(maxsize=8)
def _detector_layers(path: str, mtime_ns: int, size: int) -> np.ndarray:
    """The (volume_id, layer_id) pairs of a detector file, cached per file version."""
    det = read_detectors(path)
    return np.unique(det[["volume_id", "layer_id"]].to_numpy(np.int64), axis=0)


def detector_layers(path: str | Path) -> np.ndarray:
    """The ``(volume_id, layer_id)`` pairs of a ``detectors.csv`` (read once per file version).

    Shapes:
        return: (N_layers, 2) int64, sorted.
    """
    st = Path(path).stat()
    return _detector_layers(str(path), st.st_mtime_ns, st.st_size).copy()


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
        from trackcore.data.acts_io import read_acts_event

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


def read_detectors(path: str | Path) -> pd.DataFrame:
    """Read a TrackML ``detectors.csv`` (``.csv`` or ``.csv.gz``) module description.

    Raises:
        DataError: the file is unreadable, fails the checks, or describes no module.
    """
    det = read_table(path, DETECTORS)
    if len(det) == 0:
        raise DataError(path, "describes no module (header only): a detector description needs its modules")
    return det


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
