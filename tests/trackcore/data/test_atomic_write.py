"""write_event is atomic: a writer that dies mid-event leaves no half event that readers accept."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO_ROOT, make_event
from trackcore.data import DataError, list_events, read_event, write_event
from trackcore.data.atomic import atomic_write_text


def _visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def _fail_on_call(monkeypatch: pytest.MonkeyPatch, target: object, name: str, n: int) -> list:
    """Make ``target.name`` raise on its ``n``-th call (1-based); returns the list of call arguments."""
    real = getattr(target, name)
    calls: list = []

    def wrapper(*args, **kwargs):
        calls.append(args)
        if len(calls) == n:
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)
    return calls


@pytest.mark.parametrize("compress", [False, True])
def test_tables_are_renamed_into_place_hits_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 compress: bool) -> None:
    calls = _fail_on_call(monkeypatch, os, "replace", 0)
    prefix = write_event(make_event(), tmp_path, compress=compress)
    targets = [Path(str(dst)).name for _, dst in calls]
    ext = ".csv.gz" if compress else ".csv"
    assert targets == [f"event000001000-{t}{ext}" for t in ("particles", "truth", "hits")]
    assert _visible(tmp_path) == sorted(targets)
    assert read_event(prefix).n_hits == 14


def test_failure_while_writing_a_table_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_on_call(monkeypatch, pd.DataFrame, "to_csv", 3)  # particles, truth, then hits fails
    with pytest.raises(OSError, match="simulated"):
        write_event(make_event(), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_failure_before_the_hits_rename_leaves_no_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_on_call(monkeypatch, os, "replace", 3)  # particles and truth are in place, hits fails
    with pytest.raises(OSError, match="simulated"):
        write_event(make_event(), tmp_path)
    assert _visible(tmp_path) == ["event000001000-particles.csv", "event000001000-truth.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(DataError, match="no TrackML events found"):
        list_events(tmp_path)


def test_a_failed_overwrite_never_mixes_two_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = make_event(seed=1)
    old.cells = pd.DataFrame({"hit_id": [1, 2], "ch0": [1, 2], "ch1": [3, 4], "value": [0.5, 0.5]})
    write_event(old, tmp_path)
    new = make_event(n_particles=2, seed=2)
    _fail_on_call(monkeypatch, os, "replace", 2)  # particles in place, then truth fails
    with pytest.raises(OSError, match="simulated"):
        write_event(new, tmp_path)
    # The old hits went first: what is left (new particles, old truth) is no event.
    assert "event000001000-hits.csv" not in _visible(tmp_path)
    with pytest.raises(DataError, match="no TrackML events found"):
        list_events(tmp_path)


def test_an_overwrite_replaces_the_whole_event(tmp_path: Path) -> None:
    old = make_event(seed=1)
    old.cells = pd.DataFrame({"hit_id": [1, 2], "ch0": [1, 2], "ch1": [3, 4], "value": [0.5, 0.5]})
    write_event(old, tmp_path)
    new = make_event(n_particles=2, seed=2)
    prefix = write_event(new, tmp_path, compress=True)
    assert _visible(tmp_path) == [f"event000001000-{t}.csv.gz" for t in ("hits", "particles", "truth")]
    back = read_event(prefix)
    assert back.cells is None
    pd.testing.assert_frame_equal(back.hits, new.hits)


def test_atomic_write_text_failure_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "simulation.json"
    path.write_text("old")
    _fail_on_call(monkeypatch, os, "replace", 1)
    with pytest.raises(OSError, match="simulated"):
        atomic_write_text(path, "new")
    assert _visible(tmp_path) == ["simulation.json"] and path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]


_KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    import pandas as pd
    from tests.conftest import make_event
    from trackcore.data import write_event

    real = pd.DataFrame.to_csv
    def to_csv(self, f, *args, **kwargs):
        if "x" in self.columns:  # the hits table: write half of it, then die as with kill -9
            real(self.iloc[: len(self) // 2], f, *args, **kwargs)
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, f, *args, **kwargs)
    pd.DataFrame.to_csv = to_csv
    write_event(make_event(), sys.argv[1])
""")


def test_kill_9_mid_write_leaves_no_event(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", _KILLED_WRITER, str(tmp_path)], cwd=REPO_ROOT,
                          capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert proc.returncode == -9, proc.stderr.decode()
    hidden = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert any(name.startswith(".event000001000-hits.csv.") for name in hidden)  # the cut file, hidden
    assert _visible(tmp_path) == []
    with pytest.raises(DataError, match="no TrackML events found"):
        list_events(tmp_path)
