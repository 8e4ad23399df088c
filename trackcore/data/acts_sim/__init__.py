"""Simulation with ACTS (Fatras, digitisation) and Pythia 8, and the ACTS CKF tracker (optional extra `acts`).

Everything here imports pyacts / pythia8mc lazily: without the extra, the package imports and
only running the engine raises an ImportError that says how to install it.
"""

from trackcore.data.acts_sim.engine import ACTS_EXTRA, CKF_DIR, ActsRun, ActsSettings, require_acts, simulate_acts
from trackcore.data.acts_sim.presets import ACTS_PRESETS, ActsPreset, get_acts_preset

__all__ = [
    "ACTS_EXTRA",
    "ACTS_PRESETS",
    "CKF_DIR",
    "ActsPreset",
    "ActsRun",
    "ActsSettings",
    "get_acts_preset",
    "require_acts",
    "simulate_acts",
]
