"""A non-editable install (`pip install .`) runs the quick comparison on `tiny` outside the source tree.

The configs ship inside the packages and the families are found through their entry points, so
nothing may depend on a source checkout: the installed copy is imported (checked) from a folder
outside the repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_wheel_install_runs_the_quick_comparison_on_tiny(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(ROOT)],
                   check=True, capture_output=True, text=True)
    assert (target / "oc" / "configs" / "small.yaml").is_file()
    assert (target / "trackcore" / "graph" / "configs" / "small_metric_learning.yaml").is_file()
    env = {**os.environ, "PYTHONPATH": str(target), "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    run = tmp_path / "run"
    run.mkdir()
    script = (
        "import sys, trackcore, oc; from trackcore.compare.pipeline import step_configs; "
        "print(trackcore.__file__); print(oc.__file__); print(step_configs()['oc']); "
        "from trackcore.cli import main; sys.exit(main(['compare', '--data', 'tiny', '--quick', '--out', 'out']))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=run, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    trackcore_file, oc_file, oc_config = done.stdout.splitlines()[:3]
    for path in (trackcore_file, oc_file, oc_config):
        assert Path(path).is_relative_to(target), f"{path}: not the installed copy"
    metrics = json.loads((run / "out" / "metrics.json").read_text())
    assert {"ec", "oc", "eggnet", "hgnn"} <= set(metrics["families"])
