"""The trackcore command line: inspect (simulate and prepare are tested with their modules)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import make_event, shared_data
from trackcore.cli import main
from trackcore.data import write_event


def test_inspect_event_and_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for i in (1000, 1001):
        e = make_event(seed=i)
        e.event_id = i
        write_event(e, tmp_path)
    assert main(["inspect", str(tmp_path / "event000001000-hits.csv")]) == 0
    out = capsys.readouterr().out
    assert "hits: 14" in out and "hits per volume: 8: 14" in out and "noise fraction: 14.3%" in out
    assert main(["inspect", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 events" in out and "hits per event: mean 14" in out
    assert main(["inspect", str(tmp_path), "--json"]) == 0
    summaries = json.loads(capsys.readouterr().out)
    assert [s["event_id"] for s in summaries] == [1000, 1001]
    assert summaries[0]["n_particles_with_hits"] == 3


def test_inspect_bad_path_exits_2_with_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["inspect", str(tmp_path / "nothing")]) == 2
    assert "nothing: no such file or folder" in capsys.readouterr().err


@pytest.mark.realdata
def test_inspect_real_event(capsys: pytest.CaptureFixture) -> None:
    assert main(["inspect", str(shared_data("trackml_real_partial", "event000001001"))]) == 0
    out = capsys.readouterr().out
    assert "hits: 93680" in out and "particles: 8915" in out
    assert "noise fraction: 18.6% (estimated from particles.nhits)" in out


def test_simulate_then_inspect_then_prepare(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "sim"
    assert main(["simulate", "--preset", "tiny", "--events", "2", "--seed", "3", "--out", str(out)]) == 0
    assert "wrote 2 tiny events (seed 3)" in capsys.readouterr().out
    assert [p.name for p in sorted(out.glob("*-hits.csv"))] == ["event000001000-hits.csv", "event000001001-hits.csv"]
    assert main(["inspect", str(out)]) == 0
    assert "2 events" in capsys.readouterr().out
    root = tmp_path / "cache"
    assert main(["prepare", "--input", str(out), "--out", str(root), "--volumes", "8", "--workers", "1"]) == 0
    files = sorted(root.glob("processed/*/*/event*.pt"))
    assert [f.name for f in files] == ["event000001000.pt", "event000001001.pt"]
    import torch

    data = torch.load(files[0], weights_only=False)
    assert set(data.volume_id.tolist()) == {8}
    assert data.selection["params"]["volumes"] == [8]


def test_simulate_unknown_preset_lists_the_valid_ones(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["simulate", "--preset", "huge", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "huge" in err and all(p in err for p in ("tiny", "small", "trackml"))


def _tiny_folder(path: Path, n: int = 2) -> Path:
    for i in range(n):
        e = make_event(seed=i)
        e.event_id = 1000 + i
        write_event(e, path)
    return path


def _one_error_line(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_prepare_says_which_events_it_reprocessed_and_why(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    events = _tiny_folder(tmp_path / "csv")
    argv = ["prepare", "--input", str(events), "--out", str(tmp_path / "cache"), "--workers", "1"]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip().endswith("2 new, 0 cached")
    hits = events / "event000001001-hits.csv"
    hits.write_text(hits.read_text().replace(",3.2,8,", ",3.4,8,", 1))
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("0 new, 1 cached; reprocessed 1 event: 1 whose input changed"), out
    import torch

    data = torch.load(next(tmp_path.glob("cache/processed/*/*/event000001001.pt")), weights_only=False)
    assert abs(float(data.pos[data.hit_id == 1, 2]) - 3.4) < 1e-6


@pytest.mark.parametrize("extra", [["--volumes", "7"], ["--min-pt", "2"], ["--remove-noise", "--labelled-only"]])
def test_prepare_refuses_benchmark_with_selection_options(
    tmp_path: Path, capsys: pytest.CaptureFixture, extra: list[str]
) -> None:
    events = _tiny_folder(tmp_path / "csv", n=1)
    argv = ["prepare", "--input", str(events), "--out", str(tmp_path / "cache"), "--benchmark", "pt1_pixel", *extra]
    assert main(argv) == 2
    err = _one_error_line(capsys.readouterr().err)
    flags = [a for a in extra if a.startswith("--")]
    assert f"--benchmark pt1_pixel is a fixed selection: give it or {', '.join(flags)}, not both" in err
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["prepare", "--input", "{csv}", "--out", "{file}/x"],
        ["simulate", "--preset", "tiny", "--events", "1", "--out", "{file}/sim"],
        ["evaluate", "{tmp}", "--out", "{file}"],
        ["scan", "{tmp}", "--out", "{file}/scan"],
        ["dashboard", "{tmp}", "--out", "{file}/sub/dashboard.html"],
        ["sweep", "{file}", "--out", "{file}/study"],
    ],
    ids=lambda argv: argv[0],
)
def test_an_output_under_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str]) -> None:
    blocker = tmp_path / "notes.md"
    blocker.write_text("a file, not a folder\n")
    csv = _tiny_folder(tmp_path / "csv", n=1)
    argv = [a.format(csv=csv, file=blocker, tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = _one_error_line(capsys.readouterr().err)
    assert f"error: --out {argv[-1]}: {blocker} is a file, not a folder" in err
    assert blocker.read_text() == "a file, not a folder\n"


def test_a_file_given_for_an_input_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    hits = _tiny_folder(tmp_path / "csv", n=1) / "event000001000-hits.csv"
    assert main(["prepare", "--input", str(hits), "--out", str(tmp_path / "cache")]) == 2
    assert f"error: {hits}: is a file; --input takes a folder" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("command", ["prepare", "inspect", "evaluate"])
def test_missing_or_empty_input_folders_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, command: str
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("no events here\n")
    for folder in ("missing", "empty", "other"):
        path = str(tmp_path / folder)
        argv = {"prepare": ["prepare", "--input", path, "--out", str(tmp_path / "cache")],
                "inspect": ["inspect", path], "evaluate": ["evaluate", path]}[command]
        assert main(argv) == 2, folder
        assert f"error: {path}" in _one_error_line(capsys.readouterr().err)


def test_os_errors_of_a_command_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    import errno
    import os

    from trackcore.commands import prepare

    target = tmp_path / "cache" / "event000001000.pt"

    def full_disk(args: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(prepare, "run", full_disk)
    assert main(["prepare", "--input", str(tmp_path), "--out", str(tmp_path / "cache")]) == 2
    assert capsys.readouterr().err == f"error: {target}: no space left on device\n"


def test_error_message_names_the_file_in_the_way(tmp_path: Path) -> None:
    import errno

    from trackcore.cli import error_message

    (tmp_path / "f").write_text("")
    err = NotADirectoryError(errno.ENOTDIR, "Not a directory", str(tmp_path / "f" / "a" / "b"))
    assert error_message(err) == f"{tmp_path}/f/a/b: cannot be created: {tmp_path}/f is a file, not a folder"
    err = PermissionError(errno.EACCES, "Permission denied", "/root/x")
    assert error_message(err) == "/root/x: Permission denied"
    assert error_message(ValueError("a.yaml: bad")) == "a.yaml: bad"


def test_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    events = _tiny_folder(tmp_path / "csv", n=2)
    # Like `trackcore inspect ... | head -0`: the reader is gone before anything is written.
    proc = subprocess.Popen([sys.executable, "-m", "trackcore.cli", "inspect", str(events), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert err.decode() == "" and proc.returncode == 1
