"""Per-stage inference cost of every family (``trackcore bench``): :func:`run_bench`."""

from trackcore.bench.runner import FAMILIES, STAGES, bench_events, load_modules, run_bench, write_markdown

__all__ = ["FAMILIES", "STAGES", "bench_events", "load_modules", "run_bench", "write_markdown"]
