"""Scripts write to a git-ignored scratch folder unless --out is given: never over the committed results."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
# script -> the positional arguments it needs to parse
SCRIPTS = {
    "benchmarks/geometric_baseline.py": ["STAGE"],
    "benchmarks/eggnet_inference.py": [],
    "benchmarks/follow_strips.py": ["FULL_STAGE", "PIXEL_STAGE"],
    "benchmarks/neighbors.py": [],
    "benchmarks/missed_particles.py": ["STAGE"],
    "benchmarks/partial_truth_scoring.py": ["STAGE"],
    "benchmarks/track_building.py": [],
    "scripts/dashboard_screenshot.py": ["runs/sweeps"],
    "scripts/device_wheels.py": [],
    "scripts/gpu_check.py": [],
    "scripts/training_curves.py": ["WORK_DIR"],
}


def _load(script: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"script_{Path(script).stem}", REPO / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ignored_folders() -> set[str]:
    lines = (REPO / ".gitignore").read_text().splitlines()
    return {line.strip().strip("/") for line in lines if line.strip() and not line.startswith(("#", "!"))}


def test_every_script_is_checked() -> None:
    found = {str(p.relative_to(REPO)) for d in ("benchmarks", "scripts") for p in (REPO / d).glob("*.py")}
    assert found - {"scripts/compare_simulation.py"} == set(SCRIPTS)  # that one has no default: --out is required


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_the_default_output_is_a_git_ignored_scratch_folder(script: str) -> None:
    args = _load(script).parse_args(SCRIPTS[script])
    out = Path(args.out).resolve()
    scratch = REPO / "outputs" / Path(script).stem
    assert out == scratch or out.parent == scratch, out
    assert "outputs" in _ignored_folders()
    assert REPO / "benchmarks" / "results" not in (out, *out.parents)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_out_when_given_is_where_the_script_writes(script: str, tmp_path: Path) -> None:
    args = _load(script).parse_args([*SCRIPTS[script], "--out", str(tmp_path / "here")])
    assert Path(args.out) == tmp_path / "here"


def test_the_figure_script_needs_its_out(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _load("scripts/compare_simulation.py").main(["--real", "REAL"])
    assert "the following arguments are required: --out" in capsys.readouterr().err


def test_gpu_check_without_a_gpu_says_so_and_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here: `make gpu-check` runs the whole check")
    assert _load("scripts/gpu_check.py").main(["--out", str(tmp_path / "gpu")]) == 2
    assert "sees no CUDA GPU" in capsys.readouterr().err
    assert not (tmp_path / "gpu").exists()


def test_gpu_check_runs_the_gpu_tests_a_full_event_inference_and_a_short_training(tmp_path: Path) -> None:
    parts = _load("scripts/gpu_check.py").parts(tmp_path, 3, skip_compare=False)
    commands = {name: " ".join(command) for name, command in parts}
    assert len(parts) == 3
    assert any("test_gpu.py" in c for c in commands.values())
    assert any("bench --data small-full-pixel --full-configs --device cuda" in c for c in commands.values())
    assert any("compare --data small --benchmark full_pixel --quick" in c for c in commands.values())
    # trained density models add a part at TrackML density: their configs and weights, the ml step not a family
    parts = _load("scripts/gpu_check.py").parts(tmp_path, 3, skip_compare=True, density_ckpt=["ml=M", "ec=E"])
    (density,) = [" ".join(c) for name, c in parts if name.startswith("density")]
    assert "bench --data trackml-full-pixel --density-configs --device cuda --families ec" in density
    assert "--ckpt ml=M --ckpt ec=E" in density
    with pytest.raises(SystemExit, match="STEP=PATH"):
        _load("scripts/gpu_check.py").parts(tmp_path, 3, skip_compare=True, density_ckpt=["ml=M"])


def test_training_curves_of_a_work_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "work" / "runs" / "ec" / "version_0" / "metrics.csv"
    log.parent.mkdir(parents=True)
    log.write_text("epoch,step,train/loss,val/dm_efficiency,val/dm_fake_rate,val/loss\n"
                   "0,10,0.5,,,\n0,10,,0.6,0.1,0.4\n1,20,,0.8,0.05,0.3\n")
    script = _load("scripts/training_curves.py")
    assert script.main([str(tmp_path / "work"), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "training_curves.png").stat().st_size > 10_000
    assert script.read_runs(tmp_path / "work")["ec"]["val/dm_efficiency"].tolist() == [0.6, 0.8]
    # resumed: a newer version's epochs follow (and replace) the older one's
    resumed = tmp_path / "work" / "runs" / "ec" / "version_1" / "metrics.csv"
    resumed.parent.mkdir()
    resumed.write_text("epoch,step,val/dm_efficiency,val/dm_fake_rate,val/loss\n1,20,0.85,0.04,0.25\n2,30,0.9,0.03,0.2\n")
    assert script.read_runs(tmp_path / "work")["ec"]["val/dm_efficiency"].tolist() == [0.6, 0.85, 0.9]
    assert script.main([str(tmp_path / "nothing")]) == 2
    assert "no runs/ folder" in capsys.readouterr().err
