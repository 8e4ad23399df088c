"""Side-by-side comparison of the tracker families on the same events (``trackcore compare``)."""

from trackcore.compare.pipeline import (
    FAMILIES,
    ComparisonPlan,
    FamilyResult,
    StageStep,
    StepRecord,
    plan_comparison,
    run_family,
)
from trackcore.compare.report import write_report

__all__ = [
    "FAMILIES",
    "ComparisonPlan",
    "FamilyResult",
    "StageStep",
    "StepRecord",
    "plan_comparison",
    "run_family",
    "write_report",
]
