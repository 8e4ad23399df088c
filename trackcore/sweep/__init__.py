"""Hyper-parameter sweeps: W&B sweep files run offline through Optuna, and a static dashboard.

trackcore sweep experiments/sweeps/oc.yaml --trials 20      # offline, on this machine
wandb sweep experiments/sweeps/oc.yaml && wandb agent ID    # the same file, with a W&B server
trackcore dashboard runs/sweeps                             # HTML, viewable without W&B
"""

from trackcore.sweep.dashboard import build_dashboard
from trackcore.sweep.runner import SweepResult, run_sweep
from trackcore.sweep.spec import SweepSpec, load_sweep

__all__ = ["SweepResult", "SweepSpec", "build_dashboard", "load_sweep", "run_sweep"]
