"""Studies across families: how soft outputs become hard tracks (:mod:`trackcore.study.soft_to_hard`)."""

from trackcore.study.soft_to_hard import KNOBS, Knob, plot_study, run_study

__all__ = ["KNOBS", "Knob", "plot_study", "run_study"]
