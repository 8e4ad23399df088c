"""The comparison rows that train nothing: the ACTS CKF's tracks and the geometric baseline, on the test
events processed as the graph stage's config processes them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trackcore.compare.records import ComparisonPlan, StageStep, StepRecord


def run_ckf(plan: ComparisonPlan, step: StageStep, folder: Path) -> StepRecord:
    """The acts-ckf stage: the test events, processed as ``step.config`` does, with the CKF's tracks
    written beside the events of ``folder`` by the ACTS simulation."""
    from trackcore.compare.acts_ckf import ckf_timing, write_ckf_stage

    n = write_ckf_stage(test_events(plan, step), folder, plan.stage_dir(step.name), split="test")
    seconds = ckf_timing(folder)["ckf_seconds_per_event"]
    return StepRecord(train_seconds=0.0, predict_seconds=seconds * n, n_events=n, checkpoint=None, config=step.config)


def test_events(plan: ComparisonPlan, step: StageStep) -> list:
    """The test events processed as ``step.config`` (the graph stage's config) processes them."""
    from trackcore.train.cli import main as train_main

    cli = train_main(["--config", str(step.config), *plan.data_args, "--trainer.logger=false"], run=False)
    datamodule = cli.datamodule
    datamodule.prepare_data()
    datamodule.setup("test")
    return list(datamodule.datasets["test"])


def run_geometric(plan: ComparisonPlan, step: StageStep, refine: Mapping[str, Any] | None = None) -> StepRecord:
    """The geometric baseline's stage: its tracks on the test events, the hits as the families get them;
    ``refine``: HelixRefinement settings over the baseline's own (``compare --refine``)."""
    from trackcore.compare.geometric import geometric_finder, write_geometric_stage

    finder = geometric_finder(refine)
    print(f"== geometric: the helix search alone on the test events ({finder.max_holes} hole(s) at most)", flush=True)
    n, seconds = write_geometric_stage(test_events(plan, step), plan.stage_dir(step.name), finder)
    return StepRecord(train_seconds=0.0, predict_seconds=seconds, n_events=n, checkpoint=None, config=step.config)
