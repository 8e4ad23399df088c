"""Reading and writing TrackML CSV events exactly as the challenge defines them.

An event is a file prefix such as ``train_1/event000001000``, with the tables
``<prefix>-hits.csv``, ``-cells.csv``, ``-particles.csv``, ``-truth.csv`` (or the
``-truth-partial.csv`` of ``../shared/data/trackml_real_partial``), each ``.csv`` or
``.csv.gz``. Only ``hits`` is required. Events written in the ACTS CSV layout
(``-measurements.csv``) are recognised and read by :mod:`trackcore.data.acts_io`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.schema import CELLS, DETECTORS, HITS, PARTICLES, TRUTH, TRUTH_PARTIAL, TableSpec
from trackcore.data.validation import check_table, validate_event

_EVENT_RE = re.compile(r"^(event(\d+))-")
_SUFFIXES = (".csv", ".csv.gz")


def table_path(prefix: str | Path, name: str) -> Path | None:
    """The file of table ``name`` of the event ``prefix`` (``.csv`` or ``.csv.gz``), or None."""
    prefix = Path(prefix)
    found = [p for s in _SUFFIXES if (p := prefix.parent / f"{prefix.name}-{name}{s}").is_file()]
    if len(found) > 1:
        raise DataError(prefix, f"both {found[0].name} and {found[1].name} exist; keep one")
    return found[0] if found else None


def read_table(path: str | Path, spec: TableSpec) -> pd.DataFrame:
    """Read and check one TrackML table file.

    Raises:
        DataError: file missing, unreadable, or failing :func:`check_table`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, f"file not found (the TrackML {spec.name} table)")
    try:
        df = pd.read_csv(path, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError(path, "file is empty (no header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as err:
        raise DataError(path, f"cannot be parsed as CSV: {err}") from None
    # A leading unnamed column is a pandas index written by to_csv(index=True) (e.g. the
    # gnn_tracking copy of detectors.csv): it carries no data, so it is not a loss to skip it.
    if len(df.columns) and str(df.columns[0]).startswith("Unnamed: 0"):
        df = df.drop(columns=df.columns[0])
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
        DataError: the folder is missing or holds no event.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "folder not found")
    prefixes = {
        event_prefix(p)
        for pattern in ("event*-hits.csv*", "event*-measurements.csv*")
        for p in folder.glob(pattern)
    }
    if not prefixes:
        raise DataError(folder, "no TrackML events found (no event*-hits.csv[.gz] files)")
    return sorted(prefixes)


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


def read_event(path: str | Path, *, validate: bool = True) -> Event:
    """Read one event from its prefix, any of its files, or a folder holding one event.

    Truth is ``full`` with a ``-truth`` table, ``partial`` with a ``-truth-partial``
    table, else ``none``. ACTS CSV events (those with a ``-measurements`` table, whose ``-hits`` table holds
    simulated hits) are dispatched to :func:`trackcore.data.acts_io.read_acts_event`.

    Raises:
        DataError: a missing hits file or any problem found by the checks.
    """
    prefix = _resolve_prefix(path)
    if table_path(prefix, "measurements") is not None:
        from trackcore.data.acts_io import read_acts_event

        return read_acts_event(prefix, validate=validate)
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
    return event


def read_events(folder: str | Path, *, validate: bool = True) -> Iterator[Event]:
    """Read every event of a folder, in event-id order."""
    for prefix in list_events(folder):
        yield read_event(prefix, validate=validate)


def read_detectors(path: str | Path) -> pd.DataFrame:
    """Read a TrackML ``detectors.csv`` (``.csv`` or ``.csv.gz``) module description."""
    return read_table(path, DETECTORS)


def write_event(event: Event, out_dir: str | Path, *, compress: bool = False) -> Path:
    """Write an event as TrackML CSV files; returns its prefix.

    Floats are written in full precision so that reading back gives identical tables.
    Partial truth is written as ``-truth-partial``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / event.name
    ext = ".csv.gz" if compress else ".csv"
    truth_name = "truth-partial" if event.truth_kind == "partial" else "truth"
    for name, table in (("hits", event.hits), ("cells", event.cells),
                        ("particles", event.particles), (truth_name, event.truth)):
        if table is not None:
            table.to_csv(f"{prefix}-{name}{ext}", index=False)
    return prefix
