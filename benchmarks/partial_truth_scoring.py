"""Simulated full events scored twice: with their full truth, and with the real events' partial truth.

The real events label at most one hit per (particle, layer) and only some volumes and pT
(:mod:`trackcore.metrics.partial_truth`); unknown hits count in a candidate's size. So the
efficiency measured on the real events and the one measured on simulated events differ by the
labelling before any difference of the detector or the physics. Comparing a tracker's real-event
efficiency with its simulated one scored as here separates the two.

    python benchmarks/partial_truth_scoring.py STAGE_DIR [STAGE_DIR ...] --split test [--out DIR]

Each STAGE_DIR holds predicted events with track candidates (``trackcore predict`` output) of
simulated, fully labelled events. Writes ``partial_truth_scoring.json`` and ``.md`` to ``--out``
(default the git-ignored ``outputs/partial_truth_scoring``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth, ParticlesOfInterest, TrackingEvaluation, evaluate_tracks
from trackcore.metrics.partial_truth import as_partial_truth
from trackcore.metrics.stage_report import load_stage_event, stage_event_files, stage_scoring_parser

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "outputs" / "partial_truth_scoring"
KEYS = ("n_particles", "dm_efficiency", "lhc_efficiency", "dm_fake_rate", "dm_fake_rate_upper")


def score(stage_dir: str, split: str, poi: ParticlesOfInterest) -> dict[str, dict[str, float]]:
    """The stage's summary under its full truth and under the emulated partial truth."""
    full, partial = [], []
    for path in stage_event_files(stage_dir, split):
        event = load_stage_event(path)
        candidates = TrackCandidates(event.track_hit_id.numpy(), event.track_id.numpy())
        full.append(evaluate_tracks(candidates, EventTruth.from_data(event), poi))
        partial.append(evaluate_tracks(candidates, EventTruth.from_data(as_partial_truth(event)), poi))
    return {name: {k: TrackingEvaluation.concat(ev).summary()[k] for k in KEYS}
            for name, ev in (("full truth", full), ("partial truth as the real events'", partial))}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = stage_scoring_parser(__doc__.splitlines()[0], DEFAULT_OUT)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    poi = ParticlesOfInterest(min_pt=args.min_pt)
    rows = {stage: score(stage, args.split, poi) for stage in args.stage_dirs}
    lines = ["| stage | truth | particles | DM eff | LHC eff | DM fake | DM fake (unknown as fake) |",
             "|---|---|---|---|---|---|---|"]
    for stage, by_truth in rows.items():
        for truth, s in by_truth.items():
            lines.append(f"| {stage} | {truth} | {s['n_particles']:.0f} | {s['dm_efficiency']:.2%} | "
                         f"{s['lhc_efficiency']:.2%} | {s['dm_fake_rate']:.2%} | {s['dm_fake_rate_upper']:.2%} |")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "partial_truth_scoring.json").write_text(json.dumps(rows, indent=1))
    (out / "partial_truth_scoring.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
