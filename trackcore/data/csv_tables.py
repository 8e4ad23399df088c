"""The CSV tables of an event folder: finding an event's files, reading a table exactly, the detector description.

What the TrackML reader (:mod:`trackcore.data.trackml_io`) and the ACTS CSV reader
(:mod:`trackcore.data.acts_io`) share; neither reader is imported here.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from trackcore.data.errors import DataError
from trackcore.data.schema import DETECTORS, TableSpec
from trackcore.data.validation import check_table

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


def read_detectors(path: str | Path) -> pd.DataFrame:
    """Read a TrackML ``detectors.csv`` (``.csv`` or ``.csv.gz``) module description.

    Raises:
        DataError: the file is unreadable, fails the checks, or describes no module.
    """
    det = read_table(path, DETECTORS)
    if len(det) == 0:
        raise DataError(path, "describes no module (header only): a detector description needs its modules")
    return det
