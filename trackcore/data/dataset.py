"""Processed events on disk: a cached, parallel :func:`prepare_dataset` and a dataset reading it.

Layout, one folder per :class:`ProcessingConfig` so that configs never mix::

    <out_root>/<config.key()>/config.json                   the config, its version and the sources
    <out_root>/<config.key()>/event000001000.pt             torch.save of the processed Data
    <out_root>/<config.key()>/event000001000.record.json    what it was made from (cache_record)

Files are written atomically (temporary file, then rename), so an interrupted run
leaves no half-written event and the next run simply completes the folder. An event
is reused only while its input files hash as recorded and its ``.pt`` is the file
recorded: a changed input or a damaged ``.pt`` is processed again, and said so.
"""

from __future__ import annotations

import io
import json
import multiprocessing
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset
from torch_geometric.data import Data
from tqdm.auto import tqdm

from trackcore.data.atomic import atomic_write_bytes
from trackcore.data.cache_record import (
    CacheState,
    cache_state,
    input_stamps,
    record_path,
    stamp,
    write_problem,
    write_record,
)
from trackcore.data.errors import DataError
from trackcore.data.processing import PROCESSING_VERSION, ProcessingConfig, process_event
from trackcore.data.trackml_io import event_prefix, read_event

CONFIG_FILE = "config.json"
# "fork" starts a worker in milliseconds, "spawn" in seconds (re-importing torch), a cost
# that a few events do not repay. Workers only use numpy, pandas and
# torch.save, never threads or CUDA inherited from the parent, so fork is safe here.
_START_METHOD = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


def processed_dir(out_root: str | Path, config: ProcessingConfig) -> Path:
    """The folder that holds the events processed with ``config``."""
    return Path(out_root) / config.key()


def _process_to_file(prefix: Path, target: Path, config: ProcessingConfig) -> tuple[str, str] | None:
    """Worker: read, process and save one event with its record. Returns ``(path, problem)`` or None.

    The inputs are stamped before the event is read, so that an input changed meanwhile
    differs from the record and is processed again next time.

    Errors come back as text because a :class:`DataError` does not survive pickling
    between processes (its constructor takes two arguments). The event is serialised in
    memory and written by Python, so a full disk is an ``OSError`` (torch's own file writer
    reports it as a bare RuntimeError) and no temporary file is left behind.
    """
    try:
        inputs = input_stamps(prefix)
        data = process_event(read_event(prefix), config)
        buffer = io.BytesIO()
        torch.save(data, buffer)
        payload = buffer.getvalue()
    except Exception as err:  # noqa: BLE001 - reported to the parent with the event's path
        return str(prefix), f"processing failed: {type(err).__name__}: {err}"
    record = record_path(target)
    try:
        record.unlink(missing_ok=True)  # first: a .pt without its record is never reused
        atomic_write_bytes(target, payload)
    except OSError as err:
        return str(target), write_problem(err)
    try:
        write_record(target, prefix, inputs, stamp(target))
    except OSError as err:
        return str(record), write_problem(err)
    return None


def _init_worker() -> None:
    # Each worker runs one event at a time; intra-op threads would only oversubscribe.
    torch.set_num_threads(1)


def _write_config(out_dir: Path, config: ProcessingConfig, prefixes: Sequence[Path]) -> None:
    """Create or extend ``config.json``; refuse a folder written for another config."""
    path = out_dir / CONFIG_FILE
    sources: set[str] = set()
    if path.is_file():
        try:
            recorded = json.loads(path.read_text())
            old = ProcessingConfig.from_dict(recorded["config"])
        except (ValueError, KeyError, TypeError) as err:
            raise DataError(path, f"is not a valid processing record ({err}); delete the folder") from None
        if old != config or recorded.get("version") != PROCESSING_VERSION:
            raise DataError(
                path,
                f"records config {recorded['config']} (version {recorded.get('version')}), "
                f"not {config.to_dict()} (version {PROCESSING_VERSION}); delete the folder",
            )
        sources.update(recorded.get("sources", []))
    sources.update(str(p) for p in prefixes)
    record = {
        "key": config.key(),
        "version": PROCESSING_VERSION,
        "config": config.to_dict(),
        "sources": sorted(sources),
    }
    try:
        atomic_write_bytes(path, (json.dumps(record, indent=2) + "\n").encode())
    except OSError as err:
        raise DataError(path, write_problem(err)) from None


_REPROCESSED = {
    CacheState.INPUT_CHANGED: "whose input changed",
    CacheState.DAMAGED: "whose cached file was damaged (it differs from its record)",
    CacheState.UNRECORDED: "whose cached file had no record of its inputs",
}


class PreparedFiles(list):
    """The processed file of every source (a ``list`` of ``Path``, in source order), and how each was got.

    Attributes:
        states: :class:`CacheState` -> number of distinct events in that state before the run
            (every state but ``CACHED`` was processed); with ``overwrite`` the reused ones count
            as ``overwritten``.
    """

    def __init__(self, files: Sequence[Path], states: Mapping[CacheState | str, int]) -> None:
        super().__init__(files)
        self.states = dict(states)

    def summary(self) -> str:
        """One line, e.g. ``3 new, 5 cached; reprocessed 2 events: 1 whose input changed, 1 whose ...``."""
        n = self.states
        parts = [f"{n.get(CacheState.NEW, 0)} new", f"{n.get(CacheState.CACHED, 0)} cached"]
        redone = [f"{k} {why}" for state, why in _REPROCESSED.items() if (k := n.get(state, 0))]
        if n.get("overwritten"):
            redone.append(f"{n['overwritten']} valid ones, as asked (overwrite)")
        if redone:
            total = sum(n.get(state, 0) for state in _REPROCESSED) + n.get("overwritten", 0)
            parts[-1] += f"; reprocessed {total} event{'s' if total != 1 else ''}: " + ", ".join(redone)
        return ", ".join(parts)


def prepare_dataset(
    sources: Sequence[str | Path],
    out_root: str | Path,
    config: ProcessingConfig,
    *,
    workers: int = 2,
    progress: bool = True,
    overwrite: bool = False,
) -> PreparedFiles:
    """Process events into ``out_root/<config.key()>/``, in parallel, reusing valid cached ones.

    A cached event is reused only when its input files hash as recorded and its ``.pt`` is
    the recorded file (:func:`~trackcore.data.cache_record.cache_state`); any other is
    processed again, and the result's :attr:`PreparedFiles.states` says why.

    Args:
        sources: events, each as its prefix (``dir/event000001000``) or any of its files.
        out_root: root of the processed datasets; each config gets its own subfolder.
        config: selections and features (see :func:`process_event`).
        workers: processes; 1 processes in this process (no pool).
        progress: show a tqdm progress bar.
        overwrite: re-process events even where the cache is valid.

    Returns:
        the processed file of every source, in the order given (a list, with the cache states).

    Raises:
        DataError: a source is not an event path, two sources share an event name, the
            folder was written for another config, an event fails to process, or a file
            cannot be written (e.g. disk full); the message names the file, events finished
            before stay on disk and no temporary file is left.
    """
    prefixes = [event_prefix(s) for s in sources]
    out_dir = processed_dir(out_root, config)
    targets = [out_dir / f"{p.name}.pt" for p in prefixes]
    seen: dict[Path, Path] = {}
    for prefix, target in zip(prefixes, targets, strict=True):
        if target in seen and seen[target] != prefix:
            raise DataError(prefix, f"has the same event name as {seen[target]}; "
                                    "processed files are named by event, so keep one")
        seen[target] = prefix
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_config(out_dir, config, prefixes)

    states = {t: cache_state(t, input_stamps(p)) for t, p in seen.items()}
    counts = Counter(states.values())
    if overwrite and counts[CacheState.CACHED]:
        counts["overwritten"] = counts.pop(CacheState.CACHED)
    todo = [(p, t) for t, p in seen.items() if overwrite or states[t] is not CacheState.CACHED]
    bar = tqdm(total=len(todo), desc=f"processing {out_dir.name}", unit="event",
               disable=not progress or not todo)
    bar.set_postfix(cached=len(seen) - len(todo))
    try:
        if workers <= 1 or len(todo) <= 1:
            for prefix, target in todo:
                error = _process_to_file(prefix, target, config)
                if error is not None:
                    raise DataError(*error)
                bar.update()
        else:
            _run_pool(todo, config, workers, bar)
    finally:
        bar.close()
    return PreparedFiles(targets, counts)


def _run_pool(
    todo: list[tuple[Path, Path]], config: ProcessingConfig, workers: int, bar: tqdm
) -> None:
    ctx = multiprocessing.get_context(_START_METHOD)
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=ctx,
                             initializer=_init_worker) as pool:
        futures = {pool.submit(_process_to_file, p, t, config): p for p, t in todo}
        for fut in as_completed(futures):
            try:
                error = fut.result()
            except Exception as err:  # noqa: BLE001 - e.g. a worker killed for memory
                error = (str(futures[fut]), f"processing failed: worker failed: {type(err).__name__}: {err}")
            if error is not None:
                pool.shutdown(wait=True, cancel_futures=True)
                raise DataError(*error)
            bar.update()


class ProcessedEventDataset(Dataset):
    """The processed events of one folder written by :func:`prepare_dataset`.

    Args:
        root: a ``<out_root>/<config.key()>`` folder.
        files: the events to use (names or paths inside ``root``), in this order;
            None uses every ``event*.pt`` of the folder, sorted by event id.
        transform: applied to each event after loading.

    Raises:
        DataError: ``root`` is missing or holds no processed event, a requested file
            is missing, or (when read) a file is not a processed event.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        files: Sequence[str | Path] | None = None,
        transform: Callable[[Data], Data] | None = None,
    ) -> None:
        self.root = Path(root)
        self.transform = transform
        if not self.root.is_dir():
            raise DataError(self.root, "processed dataset folder not found; run prepare_dataset")
        if files is None:
            self.files = sorted(self.root.glob("event*.pt"))
            if not self.files:
                raise DataError(self.root, "holds no processed event (event*.pt); "
                                           "run prepare_dataset first")
        else:
            self.files = [self.root / Path(f).name for f in files]
            missing = [f.name for f in self.files if not f.is_file()]
            if missing:
                raise DataError(self.root, f"lacks {len(missing)} requested processed event(s), "
                                           f"e.g. {missing[:3]}; run prepare_dataset")

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> Data:
        path = self.files[index]
        try:
            data = torch.load(path, weights_only=False)
        except Exception as err:  # noqa: BLE001 - any unreadable file is reported the same way
            raise DataError(path, f"cannot be read as a processed event ({type(err).__name__}: "
                                  f"{err}); delete it and run prepare_dataset again") from None
        if not isinstance(data, Data):
            raise DataError(path, f"holds a {type(data).__name__}, not a processed event (Data)")
        return self.transform(data) if self.transform is not None else data

    @property
    def event_ids(self) -> list[int]:
        """Event ids of the files, in dataset order."""
        return [int(f.stem.removeprefix("event")) for f in self.files]

    @property
    def config(self) -> ProcessingConfig | None:
        """The config recorded in the folder's ``config.json`` (None when absent)."""
        path = self.root / CONFIG_FILE
        if not path.is_file():
            return None
        return ProcessingConfig.from_dict(json.loads(path.read_text())["config"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} events in {self.root})"


def load_processed(path: str | Path) -> Any:
    """Load one processed event file, with the same checks as the dataset."""
    path = Path(path)
    return ProcessedEventDataset(path.parent, files=[path.name])[0]
