"""Where each family loses its missed particles: graph, edge scores or track building; prompt or displaced.

    python benchmarks/missed_particles.py STAGE_DIR [STAGE_DIR ...] [--split test] [--min-pt 1] [--out DIR]

Each STAGE_DIR holds predicted events with track candidates (``trackcore predict`` output, e.g. a
comparison's ``<work>/stages/<family>``). Each missed particle of interest is counted by where it
was lost (:mod:`trackcore.metrics.misses`) and whether it is prompt (vertex within 1 mm of the beam
line) or displaced. The edge cut is the stage's own (its stage.json), 0.5 without one. Writes
``missed_particles.json`` and ``.md`` to ``--out`` (default the git-ignored ``outputs/missed_particles``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from trackcore.metrics import ParticlesOfInterest
from trackcore.metrics.misses import REASONS, MissCounts, missed_particles
from trackcore.metrics.stage_report import load_stage_event, stage_candidates, stage_event_files, stage_scoring_parser
from trackcore.train.writer import read_stage_settings

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "outputs" / "missed_particles"
ORIGINS = ("prompt", "displaced")


def count_stage(stage_dir: str, split: str, poi: ParticlesOfInterest) -> MissCounts:
    """The pooled :class:`MissCounts` of a stage's events of ``split``."""
    edge_cut = float((read_stage_settings(stage_dir) or {}).get("edge_cut", 0.5))
    counts = MissCounts()
    for path in tqdm(stage_event_files(stage_dir, split), desc=Path(stage_dir).name, unit="event", leave=False):
        event = load_stage_event(path)
        counts.add(missed_particles(event, stage_candidates(event, path), poi, edge_cut=edge_cut))
    return counts


def table(rows: dict[str, MissCounts]) -> list[str]:
    """Markdown rows: per stage and origin, particles, efficiency and the misses by reason."""
    lines = ["| stage | particles | n | DM eff | " + " | ".join(f"missed: {r}" for r in REASONS) + " |",
             "|---|---|---|---|" + "---|" * len(REASONS)]
    for stage, c in rows.items():
        for origin in (*ORIGINS, None):
            name = origin or "all"
            n = c.total[origin] if origin else sum(c.total[o] for o in ORIGINS)
            lost = [sum(c.missed[(o, r)] for o in ((origin,) if origin else ORIGINS)) for r in REASONS]
            lines.append(f"| {stage} | {name} | {n:,} | {100 * c.efficiency(origin):.2f}% | "
                         + " | ".join(str(v) for v in lost) + " |")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = stage_scoring_parser(__doc__.splitlines()[0], DEFAULT_OUT)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    poi = ParticlesOfInterest(min_pt=args.min_pt)
    try:
        rows = {stage: count_stage(stage, args.split, poi) for stage in args.stage_dirs}
    except (FileNotFoundError, ValueError) as err:
        print(f"missed_particles: {err}", file=sys.stderr)
        return 2
    lines = [f"Particles of interest: pT > {args.min_pt:g} GeV, >= 3 hits; split {args.split}; prompt: production "
             "vertex within 1 mm of the beam line.", "", *table(rows)]
    print("\n".join(lines))
    args.out.mkdir(parents=True, exist_ok=True)
    payload = {stage: {"total": dict(c.total), "missed": {f"{o}/{r}": v for (o, r), v in c.missed.items()}}
               for stage, c in rows.items()}
    for name, text in (("missed_particles.json", json.dumps(payload, indent=2)), ("missed_particles.md",
                                                                                   "\n".join(lines) + "\n")):
        tmp = args.out / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(args.out / name)
    print(f"wrote {args.out / 'missed_particles.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
