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
    "benchmarks/track_building.py": [],
    "scripts/dashboard_screenshot.py": ["runs/sweeps"],
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
