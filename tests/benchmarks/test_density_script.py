"""scripts/density_learned_cuts.sh: its steps in order, with a stand-in ``trackcore`` that records its calls."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "density_learned_cuts.sh"


def run(args: list[str], tmp_path: Path, fail: str | None = None) -> tuple[subprocess.CompletedProcess, list[str]]:
    """The script with a ``trackcore`` on PATH that appends each call to a log (and fails on ``fail``)."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "trackcore"
    stub.write_text(f'#!/usr/bin/env bash\necho "$*" >> {log}\n'
                    + (f'case "$*" in *"{fail}"*) echo "stand-in failure" >&2; exit 1;; esac\n' if fail else ""))
    stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "N_TRAIN": "3", "N_EVAL": "2"}
    done = subprocess.run(["bash", str(SCRIPT), *args], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    return done, log.read_text().splitlines() if log.exists() else []


def test_the_steps_in_order_with_their_settings(tmp_path: Path) -> None:
    graph, ckpt = tmp_path / "graph", tmp_path / "ec.ckpt"
    graph.mkdir()
    ckpt.write_text("")
    work = tmp_path / "work"
    done, calls = run([str(graph), str(ckpt), str(work)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert [c.split()[0] + " " + c.split()[1] for c in calls] == [
        "predict --config", "quality fit", "predict --config", "quality fit",
        "predict --config", "evaluate " + str(work / "val"), "evaluate " + str(work / "val"),
        "predict --config", "evaluate " + str(work / "test"), "evaluate " + str(work / "test")]
    nocut, cut, val = calls[0], calls[2], calls[4]
    assert "--predict_splits=[train]" in nocut and "limit_predict_batches=3" in nocut and "quality_model" not in nocut
    assert f"quality_model={work / 'ec_quality.pkl'}" in cut and "max_fake_prob=0.5" in cut
    assert calls[3].endswith("--triplets {}")
    assert "--predict_splits=[val]" in val and "span_holes_from=3" in val and "max_fake_prob=0.45" in val
    assert f"triplets={{quality_model: {work / 'triplets_quality.pkl'}, max_fake_prob: 0.5}}" in val
    assert "limit_predict_batches=2" in val and "--min-pt 0.5" in calls[6]


def test_bad_arguments_and_a_failed_step_stop_it_with_one_line(tmp_path: Path) -> None:
    done, calls = run([], tmp_path)
    assert done.returncode == 2 and "usage:" in done.stderr and not calls
    done, _ = run([str(tmp_path / "none"), "x.ckpt", str(tmp_path / "w")], tmp_path)
    assert done.returncode == 2 and "none: no graph stage there" in done.stderr
    (tmp_path / "g").mkdir()
    done, _ = run([str(tmp_path / "g"), str(tmp_path / "x.ckpt"), str(tmp_path / "w")], tmp_path)
    assert done.returncode == 2 and "x.ckpt: no checkpoint there" in done.stderr
    (tmp_path / "x.ckpt").write_text("")
    done, calls = run([str(tmp_path / "g"), str(tmp_path / "x.ckpt"), str(tmp_path / "w")], tmp_path,
                      fail="quality fit")
    assert done.returncode != 0 and "stand-in failure" in done.stderr
    assert calls[-1].startswith("quality fit")  # nothing after the failed step
