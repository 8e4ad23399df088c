"""In-process ``fit``/``predict`` runs show progress and results, not repeated library chatter.

``trackcore compare`` runs ``fit`` and ``predict`` of up to ten stages in one process, and
``trackcore sweep`` one ``fit`` per trial. Each run would print the same lines again: LightningCLI's
warning about ``args`` beside ``sys.argv`` (the caller passes the run's arguments itself, so there
is no conflict to warn of), Lightning's INFO lines (seed, "GPU available", a logger tip), the
"dirpath has changed" warning of every ``predict`` (it reads the checkpoint of the ``fit`` run, in
another folder, on purpose), a deprecation inside Lightning's own code, and W&B's banner and run
summary (the run is still logged offline; only its console output is silenced). Progress bars, real
warnings and errors stay.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

QUIET_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")
"""Loggers whose INFO lines repeat once per stage."""
EXPECTED_WARNINGS = (
    r"LightningCLI's args parameter is intended to run from within Python",
    r"The dirpath has changed from",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
)
"""Warnings that say nothing about the user's run (see the module docstring)."""


@contextmanager
def quiet_stage_runs() -> Iterator[None]:
    """Hold back the repeated chatter of in-process ``fit``/``predict`` runs (restored on exit)."""
    argv = sys.argv
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    wandb_silent = os.environ.get("WANDB_SILENT")
    sys.argv = argv[:1]  # the stage's arguments are given to LightningCLI directly
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if wandb_silent is None:
        os.environ["WANDB_SILENT"] = "true"
    try:
        with warnings.catch_warnings():
            for pattern in EXPECTED_WARNINGS:
                warnings.filterwarnings("ignore", message=pattern)
            yield
    finally:
        sys.argv = argv
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        if wandb_silent is None:
            os.environ.pop("WANDB_SILENT", None)
