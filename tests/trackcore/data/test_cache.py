"""The processed-event cache of prepare_dataset: keyed on its inputs' content, verified, written safely."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path

import pytest
import torch

from tests.conftest import make_event
from trackcore.data import atomic
from trackcore.data.cache_record import CacheState, input_files, record_path, stamp
from trackcore.data.dataset import ProcessedEventDataset, prepare_dataset
from trackcore.data.errors import DataError
from trackcore.data.processing import ProcessingConfig, process_event
from trackcore.data.trackml_io import read_event, write_event

CONFIG = ProcessingConfig()


def _event(event_id: int, seed: int, n_particles: int = 3):
    event = make_event(n_particles=n_particles, seed=seed)
    event.event_id = event_id
    return event


@pytest.fixture
def sources(tmp_path: Path) -> list[Path]:
    return [write_event(_event(1000 + i, seed=i), tmp_path / "csv") for i in range(2)]


def _prepare(sources: list[Path], root: Path, **kwargs):
    return prepare_dataset(sources, root, CONFIG, workers=1, progress=False, **kwargs)


def _load(path: Path):
    return torch.load(path, weights_only=False)


def test_first_run_records_every_input_and_the_output(sources: list[Path], tmp_path: Path) -> None:
    files = _prepare(sources, tmp_path / "out")
    assert files.states == {CacheState.NEW: 2}
    assert files.summary() == "2 new, 0 cached"
    record = json.loads(record_path(files[0]).read_text())
    assert sorted(record["inputs"]) == ["event000001000-hits.csv", "event000001000-particles.csv",
                                        "event000001000-truth.csv"]
    hits = record["inputs"]["event000001000-hits.csv"]
    assert hits["size"] == Path(f"{sources[0]}-hits.csv").stat().st_size and len(hits["blake2b"]) == 32
    assert record["output"]["blake2b"] == stamp(files[0]).blake2b
    # Records are no events: the dataset still lists exactly the processed files.
    assert ProcessedEventDataset(files[0].parent).files == list(files)
    assert _prepare(sources, tmp_path / "out").states == {CacheState.CACHED: 2}


def test_a_changed_input_is_reprocessed_even_with_the_same_size_and_mtime(
    sources: list[Path], tmp_path: Path
) -> None:
    files = _prepare(sources, tmp_path / "out")
    before = [f.stat().st_mtime_ns for f in files]
    hits = Path(f"{sources[0]}-hits.csv")
    st = hits.stat()
    # Move the first hit by 0.1 mm in z, keeping the file's size and its timestamps.
    text = hits.read_text()
    changed = text.replace(",3.2,8,", ",3.3,8,", 1)
    assert len(changed) == len(text) and changed != text
    hits.write_text(changed)
    os.utime(hits, ns=(st.st_atime_ns, st.st_mtime_ns))

    again = _prepare(sources, tmp_path / "out")
    assert again.states == {CacheState.INPUT_CHANGED: 1, CacheState.CACHED: 1}
    assert again.summary() == "0 new, 1 cached; reprocessed 1 event: 1 whose input changed"
    fresh = process_event(read_event(sources[0]), CONFIG)
    assert torch.equal(_load(files[0]).pos, fresh.pos)
    assert files[1].stat().st_mtime_ns == before[1]  # the unchanged event is not rewritten
    assert _prepare(sources, tmp_path / "out").states == {CacheState.CACHED: 2}


def test_a_removed_table_is_a_changed_input_and_a_touch_is_not(sources: list[Path], tmp_path: Path) -> None:
    files = _prepare(sources, tmp_path / "out")
    os.utime(f"{sources[1]}-hits.csv")  # same content, new mtime: still cached
    assert _prepare(sources, tmp_path / "out").states == {CacheState.CACHED: 2}
    Path(f"{sources[1]}-truth.csv").unlink()
    again = _prepare(sources, tmp_path / "out")
    assert again.states == {CacheState.CACHED: 1, CacheState.INPUT_CHANGED: 1}
    assert _load(files[1]).truth_kind == "none"


def test_a_truncated_or_unrecorded_cached_file_is_reprocessed(sources: list[Path], tmp_path: Path) -> None:
    files = _prepare(sources, tmp_path / "out")
    good = files[0].read_bytes()
    files[0].write_bytes(good[: len(good) // 2])
    record_path(files[1]).unlink()
    again = _prepare(sources, tmp_path / "out")
    assert again.states == {CacheState.DAMAGED: 1, CacheState.UNRECORDED: 1}
    assert "reprocessed 2 events: 1 whose cached file was damaged" in again.summary()
    assert torch.equal(_load(files[0]).pos, process_event(read_event(sources[0]), CONFIG).pos)
    # Same size but other bytes (e.g. overwritten by hand) is damaged too.
    data = bytearray(files[0].read_bytes())
    data[len(data) // 2] ^= 0xFF
    files[0].write_bytes(bytes(data))
    assert _prepare(sources, tmp_path / "out").states == {CacheState.DAMAGED: 1, CacheState.CACHED: 1}


def test_overwrite_counts_reused_events_as_overwritten(sources: list[Path], tmp_path: Path) -> None:
    _prepare(sources, tmp_path / "out")
    again = _prepare(sources, tmp_path / "out", overwrite=True)
    assert again.summary() == "0 new, 0 cached; reprocessed 2 events: 2 valid ones, as asked (overwrite)"


def _disk_full_on(monkeypatch: pytest.MonkeyPatch, marker: str):
    """Atomic writes to a temporary whose name holds ``marker`` run out of space once their data is
    written (half of it is kept, as on a full disk); returns the function that lifts the fault."""
    created: dict[int, str] = {}
    real_mkstemp, real_fsync = tempfile.mkstemp, os.fsync

    def mkstemp(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        created[fd] = name
        return fd, name

    def fsync(fd: int) -> None:
        name = created.get(fd, "")
        if marker in Path(name).name:
            os.ftruncate(fd, os.fstat(fd).st_size // 2)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)
        real_fsync(fd)

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(atomic.os, "fsync", fsync)
    return monkeypatch.undo


@pytest.mark.parametrize("workers", [1, 2])
def test_disk_full_names_the_file_and_leaves_no_temporary(
    sources: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    restore = _disk_full_on(monkeypatch, ".pt.")  # a processed event's temporary: half written, then no space
    out = tmp_path / "out"
    with pytest.raises(DataError, match=r"event00000100[01]\.pt: cannot be written: no space left on device") as err:
        prepare_dataset(sources, out, CONFIG, workers=workers, progress=False)
    assert "\n" not in str(err.value)
    folder = out / CONFIG.key()
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []
    assert list(folder.glob("event*.pt")) == []
    restore()
    assert prepare_dataset(sources, out, CONFIG, workers=workers, progress=False).states == {CacheState.NEW: 2}


def test_a_record_that_cannot_be_written_leaves_its_event_unreused(
    sources: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    restore = _disk_full_on(monkeypatch, ".record.json.")
    with pytest.raises(DataError, match=r"event000001000\.record\.json: cannot be written: no space left"):
        _prepare(sources, tmp_path / "out")
    restore()
    assert _prepare(sources, tmp_path / "out").states == {CacheState.UNRECORDED: 1, CacheState.NEW: 1}


def test_acts_events_count_their_detector_file_as_an_input(tmp_path: Path) -> None:
    folder = tmp_path / "run" / "events"
    folder.mkdir(parents=True)
    for name in ("event000000001-measurements.csv", "event000000001-hits.csv", "event000000010-hits.csv"):
        (folder / name).write_text("x\n")
    (tmp_path / "run" / "detectors.csv").write_text("geometry_id\n")
    assert sorted(input_files(folder / "event000000001")) == [
        "../detectors.csv", "event000000001-hits.csv", "event000000001-measurements.csv"]
    assert sorted(input_files(folder / "event000000010")) == ["event000000010-hits.csv"]


def test_a_failed_simulation_leaves_no_scratch_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trackcore.data.simulation as simulation
    from trackcore.data.datamodule import TrackMLDataModule

    def full_disk(preset: object, *, out_dir: Path, **kwargs: object) -> list[Path]:
        Path(out_dir).mkdir(parents=True)
        (Path(out_dir) / "event000001000-truth.csv").write_text("hit_id,particle_id\n")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(out_dir) / "event000001000-hits.csv"))

    monkeypatch.setattr(simulation, "simulate_events", full_disk)
    dm = TrackMLDataModule(preset="tiny", data_root=str(tmp_path), progress=False)
    with pytest.raises(OSError, match="No space left"):
        dm.prepare_data()
    assert [p.name for p in dm.source_dir.iterdir()] == []
