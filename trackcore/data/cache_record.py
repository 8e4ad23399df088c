"""What a cached processed event was made from, so that a stale or damaged cache is never reused.

Beside every ``<folder>/event000001000.pt`` that :func:`~trackcore.data.dataset.prepare_dataset`
writes lies ``event000001000.record.json``: the size, ``mtime_ns`` and BLAKE2b hash of every
input file of the event (its ``event000001000-*`` tables, plus the ``detectors.csv`` an ACTS
event is read with) and of the ``.pt`` itself. On the next run an event is reused only when its
inputs hash the same and its ``.pt`` is the file the record describes; otherwise it is
processed again, and :class:`CacheState` says why.

Content decides, not timestamps: a ``touch`` or a copy keeps the cache, an edit that preserves
size and mtime does not. Hashing reads each file once, far cheaper than processing it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from trackcore.data.acts_io import find_acts_detectors
from trackcore.data.atomic import atomic_write_bytes
from trackcore.data.trackml_io import find_detectors

RECORD_SUFFIX = ".record.json"
# Bumped when the record's layout changes; a record of another version reads as unrecorded.
RECORD_VERSION = 1
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileStamp:
    """Size, modification time (ns) and BLAKE2b-128 hex digest of one file."""

    size: int
    mtime_ns: int
    blake2b: str

    def same_content(self, other: FileStamp) -> bool:
        return self.size == other.size and self.blake2b == other.blake2b


def stamp(path: str | Path) -> FileStamp:
    """The :class:`FileStamp` of a file (read once, in 1 MiB chunks)."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return FileStamp(size=st.st_size, mtime_ns=st.st_mtime_ns, blake2b=digest.hexdigest())


def input_files(prefix: str | Path) -> dict[str, Path]:
    """Every file an event is read from, by name relative to the event's folder.

    All ``<prefix>-*`` files (whatever tables the readers use), the ``detectors.csv[.gz]`` beside a
    TrackML event (its hits are checked against it), and for an ACTS event (one with a
    ``-measurements`` table) the ``detectors.csv[.gz]`` it is read with, searched next to the event
    and one folder up as :mod:`trackcore.data.acts_io` does (named ``../detectors.csv`` there).
    """
    prefix = Path(prefix)
    files = {p.name: p for p in prefix.parent.glob(f"{prefix.name}-*") if p.is_file()}
    is_acts = any(name.startswith(f"{prefix.name}-measurements.") for name in files)
    detectors = find_acts_detectors(prefix) if is_acts else find_detectors(prefix)
    if detectors is not None:
        files[("" if detectors.parent == prefix.parent else "../") + detectors.name] = detectors
    return dict(sorted(files.items()))


def input_stamps(prefix: str | Path) -> dict[str, FileStamp]:
    """:func:`stamp` of every :func:`input_files` of an event."""
    return {name: stamp(path) for name, path in input_files(prefix).items()}


def record_path(target: str | Path) -> Path:
    """The record of a processed file: ``event000001000.pt`` -> ``event000001000.record.json``."""
    target = Path(target)
    return target.with_name(target.name.removesuffix(".pt") + RECORD_SUFFIX)


class CacheState(StrEnum):
    """What the cache holds for one event, and so what :func:`prepare_dataset` does with it."""

    CACHED = "cached"  # reused
    NEW = "new"  # no processed file yet
    INPUT_CHANGED = "input changed"  # an input file was added, removed or changed since processing
    DAMAGED = "damaged"  # the .pt is not the file its record describes (truncated, overwritten)
    UNRECORDED = "unrecorded"  # a .pt with no valid record (older trackcore, or interrupted)


def cache_state(target: str | Path, inputs: Mapping[str, FileStamp]) -> CacheState:
    """Whether ``target`` may be reused for an event whose inputs now stamp as ``inputs``."""
    target = Path(target)
    if not target.is_file():
        return CacheState.NEW
    try:
        record = json.loads(record_path(target).read_text())
        if record.get("version") != RECORD_VERSION:
            return CacheState.UNRECORDED
        output = FileStamp(**record["output"])
        recorded = {name: FileStamp(**s) for name, s in record["inputs"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return CacheState.UNRECORDED
    if recorded.keys() != inputs.keys() or not all(recorded[n].same_content(s) for n, s in inputs.items()):
        return CacheState.INPUT_CHANGED
    if target.stat().st_size != output.size or not stamp(target).same_content(output):
        return CacheState.DAMAGED
    return CacheState.CACHED


def write_record(target: str | Path, prefix: str | Path, inputs: Mapping[str, FileStamp],
                 output: FileStamp) -> Path:
    """Write the record of ``target`` atomically (temporary name, then ``os.replace``).

    ``inputs`` must be stamped *before* the event was read: an input changed while it was being
    processed then differs from its record, and the next run processes the event again.
    """
    path = record_path(target)
    text = json.dumps({
        "version": RECORD_VERSION,
        "source": str(prefix),
        "inputs": {name: asdict(s) for name, s in inputs.items()},
        "output": asdict(output),
    }, indent=1) + "\n"
    atomic_write_bytes(path, text.encode())
    return path


def write_problem(err: OSError) -> str:
    """The one-line problem of a failed write: disk full is said as such."""
    if err.errno == errno.ENOSPC:
        return "cannot be written: no space left on device; free some space and run again (finished events are kept)"
    return f"cannot be written: {err.strerror or err}"
