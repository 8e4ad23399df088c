"""The GPU check on the lent device machine: the wheels it lacks, the skips it may allow, the parts' time limit."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load(script: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"script_{Path(script).stem}", REPO / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


WHEELS = _load("scripts/device_wheels.py")
CHECK = _load("scripts/gpu_check.py")


def test_closure_follows_extras_and_markers_and_stops_at_what_the_image_provides() -> None:
    graph = {
        "app": ["lib[fast]>=1", "old; python_version < '3.9'", "win; sys_platform == 'win32'", "opt; extra == 'x'",
                "Base_Pkg"],
        "lib": ["speedy; extra == 'fast'", "slow; extra == 'slow'", "base-pkg"],
        "speedy": ["app"],  # a cycle
        "base-pkg": ["huge"],  # provided: not expanded
        "huge": [], "old": [], "win": [], "opt": [], "slow": [],
    }
    found = WHEELS.closure(["app"], lambda name: graph[name], "3.12", provided={"base-pkg"})
    assert found == {"app", "lib", "speedy", "base-pkg"}
    assert WHEELS.closure(["app"], lambda name: graph[name], "3.12") == {"app", "lib", "speedy", "base-pkg", "huge"}


def test_the_wheels_to_carry_are_what_trackcore_needs_beyond_the_image() -> None:
    image = WHEELS.image_packages()
    assert {"torch", "lightning", "numpy", "torch-geometric", "numba", "scikit-learn", "pytest"} <= image
    missing = WHEELS.missing_from_image()
    # jsonargparse[signatures] pulls its extra's packages; faiss is not in the image
    assert {"faiss-cpu", "jsonargparse", "docstring-parser", "typeshed-client"} <= set(missing)
    assert not set(missing) & image and "trackcore" not in missing
    assert all(version[0].isdigit() for version in missing.values())


def test_pytest_skip_reasons_are_read_and_only_the_allowed_ones_pass() -> None:
    output = ("s.                                                    [100%]\n"
              "=========================== short test summary info ============================\n"
              "SKIPPED [1] tests/trackcore/neighbors/test_gpu.py:16: faiss has no GPU support here (install x)\n"
              "SKIPPED [2] tests/other.py:3: needs a CUDA GPU\n"
              "1 passed, 3 skipped in 2.01s\n")
    assert CHECK.skip_reasons(output) == ["faiss has no GPU support here (install x)", "needs a CUDA GPU"]
    assert CHECK.unallowed_skips(output, ["faiss has no GPU support"]) == (
        ["needs a CUDA GPU"], ["faiss has no GPU support here (install x)"])
    assert CHECK.unallowed_skips(output, []) == (CHECK.skip_reasons(output), [])
    assert CHECK.unallowed_skips("2 passed in 1.0s\n", []) == ([], [])
    assert CHECK.unallowed_skips("1 passed, 1 skipped in 1.0s\n", ["anything"])[0]  # no reason printed: not allowed


def test_a_part_past_its_time_limit_is_stopped_and_keeps_its_output() -> None:
    code, output = CHECK._run([sys.executable, "-c", "import time; print('begun', flush=True); time.sleep(30)"], 1.0)
    assert code is None and "begun" in output and "stopped after 1 s" in output
    code, output = CHECK._run([sys.executable, "-c", "print('fine')"], 30.0)
    assert code == 0 and "fine" in output


def test_the_short_training_can_be_the_tiny_preset(tmp_path: Path) -> None:
    parts = dict(CHECK.parts(tmp_path, 1, skip_compare=False, compare_data="tiny"))
    (command,) = [c for name, c in parts.items() if name.startswith("short CUDA training")]
    assert command[:3] == [sys.executable, "-m", "trackcore"]
    assert " ".join(command[3:7]) == "compare --data tiny --benchmark"
    args = CHECK.parse_args(["--compare-data", "tiny", "--allow-skip", "a", "--allow-skip", "b"])
    assert args.allow_skip == ["a", "b"] and args.compare_data == "tiny"


def test_the_device_script_without_its_wheels_says_how_to_make_them(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "WHEELS": str(tmp_path / "none"), "OUT": str(tmp_path / "out")}
    proc = subprocess.run(["bash", str(REPO / "scripts" / "gpu_check_device.sh")], env=env, text=True,
                          capture_output=True, timeout=60)
    assert proc.returncode == 3
    assert f"no trackcore wheel in {tmp_path / 'none'}: run `make gpu-wheels`" in proc.stderr


def test_the_check_records_every_part_and_counts_a_stopped_one_as_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    py = sys.executable
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Fake GPU")
    monkeypatch.setattr(CHECK, "parts", lambda *a: [
        ("gpu tests", [py, "-c", "print('SKIPPED [1] t.py:3: faiss has no GPU support here'); print('1 passed')"]),
        ("inference", [py, "-c", "print('timed')"]),
        ("training", [py, "-c", "import time; time.sleep(30)"]),
    ])
    assert CHECK.main(["--out", str(tmp_path), "--allow-skip", "faiss has no GPU", "--part-timeout", "2"]) == 1
    record = json.loads((tmp_path / "gpu_check.json").read_text())
    assert [(p["ok"], p["returncode"]) for p in record["parts"]] == [(True, 0), (True, 0), (False, None)]
    assert record["parts"][0]["allowed_skips"] == ["faiss has no GPU support here"]
    table = (tmp_path / "gpu_check.md").read_text()
    assert "Fake GPU" in table and "stopped at the part timeout" in table and "allowed skips: faiss" in table
    monkeypatch.setattr(CHECK, "parts", lambda *a: [("gpu tests", [py, "-c", "print('1 passed, 1 skipped')"])])
    assert CHECK.main(["--out", str(tmp_path / "strict")]) == 1  # a skip with no allowed reason fails


def test_bad_checkpoint_settings_are_named_before_any_download_or_gpu(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = ["--out", str(tmp_path / "wheels")]
    assert WHEELS.main([*out, "--model", "xx=a.ckpt"]) == 2
    assert "--model 'xx=a.ckpt': no such bench step setting" in capsys.readouterr().err
    assert WHEELS.main([*out, "--model", "ml"]) == 2
    assert "--model takes KEY=VALUE (got 'ml')" in capsys.readouterr().err
    assert WHEELS.main([*out, "--model", f"ml={tmp_path / 'missing.ckpt'}"]) == 2
    assert "missing.ckpt: no such checkpoint file" in capsys.readouterr().err
    assert not (tmp_path / "wheels").exists()
    with pytest.raises(SystemExit):
        CHECK.parse_args(["--density-ckpt", "xx=a.ckpt"])  # argparse's error: exit 2, before the GPU check
    assert "no such bench step setting" in capsys.readouterr().err
    assert CHECK.parse_args(["--density-ckpt", "ml=M", "--density-ckpt", "hgnn=H"]).density_ckpt == ["ml=M", "hgnn=H"]
