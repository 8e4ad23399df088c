"""What a comparison plans and what running it leaves: the records shared by the pipeline, the
baselines and the report, and the ``--refine KEY=VALUE`` settings they carry."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class StageStep:
    """One ``fit`` + ``predict`` of a config.

    Args:
        name: the stage (also its run name and stage folder name).
        config: the YAML config.
        input_stage: the stage whose folder it reads (None: the raw events).
        quick_args: extra ``fit`` arguments in quick mode. None is needed today: schedules are
            fractions of the run (HGNN's hand-over from the embedding loss to the assignment
            loss lasts ``schedule_fraction`` of ``max_epochs``, 1 of the quick mode's 3 epochs).
    """

    name: str
    config: Path
    input_stage: str | None = None
    quick_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComparisonPlan:
    """Which steps make each family's tracks, and the shared options of every run."""

    steps: dict[str, tuple[StageStep, ...]]
    work_dir: Path
    data_args: tuple[str, ...] = ()
    train_args: tuple[str, ...] = ()
    quick: bool = False
    data: str = "small"
    models_from: Path | None = None
    """Work dir of an earlier comparison whose best checkpoints every step uses instead of training."""
    refine: tuple[str, ...] = ()
    """``KEY=VALUE`` helix-refinement settings of every family's step and of the geometric baseline."""

    @property
    def refine_args(self) -> tuple[str, ...]:
        """``--model.init_args.refine.KEY=VALUE`` arguments of every family's step (not metric learning)."""
        return refinement_arguments(self.refine)

    def stage_dir(self, stage: str) -> Path:
        return self.work_dir / "stages" / stage


@dataclass(frozen=True)
class StepRecord:
    """One step's run: fit and predict wall times (NaN when an existing stage was reused), the
    events it predicted, its best checkpoint and resolved config."""

    train_seconds: float
    predict_seconds: float
    n_events: int
    checkpoint: Path | None
    config: Path
    trained_elsewhere: bool = False


@dataclass
class FamilyResult:
    """What running one family left: its final stage and the record of each of its steps."""

    family: str
    stage_dir: Path
    steps: dict[str, StepRecord] = field(default_factory=dict)
    n_parameters: int = 0

    @property
    def train_seconds(self) -> float:
        """Training wall time of the family's steps that were trained (shared steps included)."""
        return sum(r.train_seconds for r in self.steps.values() if math.isfinite(r.train_seconds))

    @property
    def reused_steps(self) -> list[str]:
        """Steps whose existing stage folder was read instead of training."""
        return [name for name, r in self.steps.items() if not math.isfinite(r.train_seconds)]


def _refinement_pairs(settings: Sequence[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` refinement settings as (key, value text); a bad form or unknown key is named."""
    import dataclasses

    from trackcore.checks import setting_pairs
    from trackcore.refinement.refine import HelixRefinement

    return setting_pairs(settings, (f.name for f in dataclasses.fields(HelixRefinement)), "--refine", "refinement")


def refinement_arguments(settings: Sequence[str]) -> tuple[str, ...]:
    """``KEY=VALUE`` refinement settings as LightningCLI arguments (unknown keys named)."""
    return tuple(f"--model.init_args.refine.{key}={value}" for key, value in _refinement_pairs(settings))


def refinement_settings(settings: Sequence[str]) -> dict[str, object]:
    """``KEY=VALUE`` refinement settings as keyword arguments of HelixRefinement (values read as YAML)."""
    import yaml

    return {key: yaml.safe_load(value) for key, value in _refinement_pairs(settings)}
