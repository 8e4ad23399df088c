"""Per-stage inference cost of every family (``trackcore bench``): :func:`run_bench`."""

from trackcore.bench.runner import STAGES, bench_events, load_modules, run_bench, write_markdown
from trackcore.compare.pipeline import FAMILIES

__all__ = ["FAMILIES", "STAGES", "bench_events", "load_modules", "run_bench", "write_markdown"]
