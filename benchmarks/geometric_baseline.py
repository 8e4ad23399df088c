"""A baseline without any model: tracks found by the helix refinement's ``recover`` step alone.

``HelixRefinement(recover=True)`` given no candidates searches every (pixel) hit's neighbourhood
in direction, seen from the origin, for the best helix through it (a robust search over hit
triples, 0.15 / 0.5 mm tolerances, through the beam line within ``max_d0``), then keeps the
largest helices first, each hit in one. It knows nothing but the positions. Any family's numbers
on the same events should be read against it: where it is strong, the events are easy
geometrically (e.g. the pT > 1 GeV benchmarks, whose hits of softer particles are removed using
the truth before any tracker runs).

    python benchmarks/geometric_baseline.py STAGE_DIR [STAGE_DIR ...] --split test

Each STAGE_DIR is any stage folder of processed events (``trackcore predict`` output, or the
graph stage): only their hits and truth are used. Writes ``geometric_baseline.json`` and
``geometric_baseline.md`` to ``--out`` (default ``outputs/geometric_baseline``, ignored by git; the
committed ``benchmarks/results`` are replaced only when named).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth, ParticlesOfInterest, TrackingEvaluation, evaluate_tracks
from trackcore.metrics.stage_report import stage_event_files
from trackcore.refinement.refine import HelixRefinement

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "outputs" / "geometric_baseline"


def run(stage_dir: str, split: str, finder: HelixRefinement, poi: ParticlesOfInterest) -> dict:
    """DM efficiency, fake and duplicate rates and seconds per event of ``finder`` on one stage split."""
    evaluations, seconds = [], 0.0
    files = stage_event_files(stage_dir, split)
    for path in files:
        event = torch.load(path, weights_only=False, map_location="cpu")
        start = time.perf_counter()
        tracks = finder(TrackCandidates.empty(), event.pos, event.hit_id, getattr(event, "volume_id", None))
        seconds += time.perf_counter() - start
        evaluations.append(evaluate_tracks(tracks, EventTruth.from_data(event), poi))
    summary = TrackingEvaluation.concat(evaluations).summary()
    return {**summary, "stage_dir": stage_dir, "split": split, "n_events": len(files),
            "seconds_per_event": seconds / len(files)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage_dirs", nargs="+")
    parser.add_argument("--split", default="test")
    parser.add_argument("--max-d0", type=float, default=2.0, help="largest transverse impact parameter (mm)")
    parser.add_argument("--min-pt", type=float, default=1.0, help="particles of interest: pT > this (GeV)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the JSON and Markdown")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    finder = HelixRefinement(recover=True, max_d0=args.max_d0)
    poi = ParticlesOfInterest(min_pt=args.min_pt)
    rows = []
    for stage in args.stage_dirs:
        row = run(stage, args.split, finder, poi)
        rows.append(row)
        print(f"{stage} ({args.split}, {row['n_events']} events): DM {row['dm_efficiency']:.2%}, "
              f"fake {row['dm_fake_rate']:.2%}, dup {row['dm_duplicate_rate']:.2%}, "
              f"{row['seconds_per_event']:.2f} s/event", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "geometric_baseline.json").write_text(json.dumps(rows, indent=1))
    lines = ["| stage | split | events | DM eff | fake | dup | s/event (1 process) |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['stage_dir']} | {r['split']} | {r['n_events']} | {r['dm_efficiency']:.2%} | "
              f"{r['dm_fake_rate']:.2%} | {r['dm_duplicate_rate']:.2%} | {r['seconds_per_event']:.2f} |" for r in rows]
    (out / "geometric_baseline.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'geometric_baseline.json'} and .md")


if __name__ == "__main__":
    main()
