"""Default loggers: always a CSV log; W&B too when it is installed (offline unless configured)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def wandb_online() -> bool:
    """True when the user has configured W&B for uploads (``WANDB_MODE=online`` or an API key)."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in ("offline", "disabled", "dryrun"):
        return False
    if mode == "online" or os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path.home() / ".netrc"
    return netrc.is_file() and "api.wandb.ai" in netrc.read_text(errors="ignore")


def default_loggers(save_dir: str = "runs", name: str = "trackcore") -> list:
    """The default loggers: CSV always, W&B when installed.

    The CSV logger always runs, so every run leaves ``metrics.csv`` without any account. W&B is
    added when importable: offline (uploadable later with ``wandb sync``) unless
    :func:`wandb_online`; ``WANDB_MODE=disabled`` leaves it out. Its files land in ``wandb/``
    beside the run's own folder: ``runs/wandb`` for ``--run_name NAME``, and for a run name
    given as a path (``compare`` passes ``WORK/runs/STEP``) ``WORK/runs/wandb``, inside the
    comparison's output rather than in the current folder.
    """
    from lightning.pytorch.loggers import CSVLogger

    loggers: list = [CSVLogger(save_dir=save_dir, name=name)]
    if importlib.util.find_spec("wandb") is not None and os.environ.get("WANDB_MODE", "").lower() != "disabled":
        from lightning.pytorch.loggers import WandbLogger

        # a W&B project name has no slashes: a run name given as a path uses its last part
        wandb_dir = (Path(save_dir) / name).parent
        wandb_dir.mkdir(parents=True, exist_ok=True)
        loggers.append(WandbLogger(save_dir=str(wandb_dir), project=Path(name).name, offline=not wandb_online()))
    return loggers


def finish_wandb_run() -> None:
    """Close the active W&B run, if any: runs started in one process (sweep trials, the stages of
    ``trackcore compare``) would otherwise all log into the first one."""
    import sys

    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        wandb.finish()


def teardown_wandb() -> None:
    """Shut W&B's in-process service down: a later run in the same process (a test, a notebook)
    would otherwise inherit the earlier runs' settings and directories."""
    import sys

    wandb = sys.modules.get("wandb")
    if wandb is not None and hasattr(wandb, "teardown"):
        wandb.teardown()
