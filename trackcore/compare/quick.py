"""Quick mode of ``trackcore compare`` (the demo): how much it trains and on which events."""

from __future__ import annotations

QUICK_TRAIN_EVENTS = 15
"""Training events per epoch in quick mode (and, for a simulated preset, training events in all)."""


def quick_preset_sizes(data: str) -> list[str]:
    """Quick mode on a simulated preset simulates, processes and predicts only the training events
    it trains on (``QUICK_TRAIN_EVENTS``), 5 validation events (every validation epoch scans the
    building settings on them, after the refinement) and 10 test events; a folder of events keeps
    its splits (its test events stay those of the full run)."""
    from trackcore.data.simulation import PRESETS

    if data not in PRESETS:
        return []
    preset = PRESETS[data]
    return [f"--data.init_args.n_train={min(preset.n_train, QUICK_TRAIN_EVENTS)}",
            f"--data.init_args.n_val={min(preset.n_val, 5)}", f"--data.init_args.n_test={min(preset.n_test, 10)}"]
