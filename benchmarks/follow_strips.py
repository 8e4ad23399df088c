"""Full-detector tracks from a model's pixel tracks followed into the strips (trackcore.refinement.follow).

    python benchmarks/follow_strips.py FULL_STAGE PIXEL_STAGE [--split test ...] [--ckf DATA_DIR]

FULL_STAGE: a stage folder of the events with every volume's hits (e.g. the ``ml`` stage of
``trackcore compare --benchmark pt1_all``); only its hits and truth are used. PIXEL_STAGE: the
same events' pixel-track stage of a family (e.g. ``ec`` of ``trackcore compare`` on the pixels),
whose candidates are followed. ``--ckf DATA_DIR`` also scores the ACTS CKF's tracks of that
ACTS data folder on the same events. Splits may be repeated (``--split train --split val``):
their events are counted together. Prints DM efficiency, fakes and the follower's seconds per
event (the pixel tracking's own time is not included: ``trackcore bench`` measures it); writes
``follow_strips.json`` and ``.md`` to ``--out`` (default ``outputs/follow_strips``, ignored by git; the
committed ``benchmarks/results`` are replaced only when named).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch

from trackcore.candidates import TrackCandidates
from trackcore.metrics import EventTruth, TrackingEvaluation, evaluate_tracks
from trackcore.metrics.stage_report import stage_event_files
from trackcore.refinement.follow import StripFollowing


def _line(name: str, summary: dict) -> str:
    n = round(summary["n_candidates"])
    fakes = round(summary["dm_fake_rate"] * n)
    return (f"{name}: DM {summary['dm_efficiency']:.2%} of {summary['n_particles']:.0f} particles, "
            f"fakes {summary['dm_fake_rate']:.4%} ({fakes} of {n:,})")


def run(full_stage: str, pixel_stage: str, splits: list[str], follower: StripFollowing, ckf: str | None) -> dict:
    """The followed tracks' (and the CKF's) summary over ``splits``, and the follower's seconds per event."""
    ours, theirs, seconds, n = [], [], 0.0, 0
    for split in splits:
        for path in stage_event_files(full_stage, split):
            event = torch.load(path, weights_only=False, map_location="cpu")
            pixel_path = Path(pixel_stage) / split / path.name
            if not pixel_path.is_file():
                raise FileNotFoundError(f"{pixel_path}: the pixel stage lacks event {path.name} of {full_stage}")
            pixel = torch.load(pixel_path, weights_only=False, map_location="cpu")
            given = TrackCandidates(pixel.track_hit_id.numpy(), pixel.track_id.numpy())
            start = time.perf_counter()
            tracks = follower(given, event.pos, event.hit_id, event.volume_id, event.layer_id)
            seconds += time.perf_counter() - start
            n += 1
            truth = EventTruth.from_data(event)
            ours.append(evaluate_tracks(tracks, truth))
            if ckf is not None:
                from trackcore.compare.acts_ckf import attach_ckf_candidates

                table = pd.read_csv(Path(ckf) / "acts-ckf" / f"event{int(event.event_id):09d}-candidates.csv")
                ckf_tracks = TrackCandidates(table.hit_id.to_numpy(), table.track_id.to_numpy())
                with_ckf = attach_ckf_candidates(event, ckf_tracks)
                theirs.append(evaluate_tracks(
                    TrackCandidates(with_ckf.track_hit_id.numpy(), with_ckf.track_id.numpy()), truth))
    out = {"n_events": n, "seconds_per_event": seconds / max(n, 1),
           "followed": TrackingEvaluation.concat(ours).summary()}
    if theirs:
        out["acts_ckf"] = TrackingEvaluation.concat(theirs).summary()
    return out


DEFAULT_OUT = Path(__file__).resolve().parents[1] / "outputs" / "follow_strips"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("full_stage")
    parser.add_argument("pixel_stage")
    parser.add_argument("--split", action="append", default=None, help="split(s) to count (default: test)")
    parser.add_argument("--window", type=float, default=StripFollowing.window)
    parser.add_argument("--min-hits", type=int, default=StripFollowing.min_hits)
    parser.add_argument("--max-holes", type=int, default=StripFollowing.max_holes,
                        help="drop tracks crossing more strip layers without a hit (default: no limit)")
    parser.add_argument("--ckf", default=None, help="ACTS data folder whose acts-ckf tracks to score alongside")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the JSON and Markdown")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    splits = args.split or ["test"]
    follower = StripFollowing(window=args.window, min_hits=args.min_hits, max_holes=args.max_holes)
    row = run(args.full_stage, args.pixel_stage, splits, follower, args.ckf)
    print(f"{args.full_stage} + {args.pixel_stage} ({'+'.join(splits)}, {row['n_events']} events; "
          f"window {args.window}, min hits {args.min_hits}, max holes {args.max_holes}):")
    print("  " + _line("followed pixel tracks", row["followed"]) + f", {row['seconds_per_event'] * 1000:.1f} ms/event")
    if "acts_ckf" in row:
        print("  " + _line("ACTS CKF", row["acts_ckf"]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {**vars(args), "out": str(out), "splits": splits, **row}
    (out / "follow_strips.json").write_text(json.dumps(report, indent=1) + "\n")
    title = f"{args.full_stage} ({'+'.join(splits)}, {row['n_events']} events)"
    lines = [f"# Pixel tracks followed into the strips: {title}",
             "", f"Pixel tracks: `{args.pixel_stage}`; window {args.window}, min hits {args.min_hits}, "
             f"max holes {args.max_holes}.", "",
             "| tracker | DM eff | DM fake | DM dup |", "|---|---|---|---|"]
    for name, key in (("pixel tracks + following", "followed"), ("ACTS CKF", "acts_ckf")):
        if key in row:
            summary = row[key]
            n = round(summary["n_candidates"])
            lines.append(f"| {name} | {summary['dm_efficiency']:.2%} | {summary['dm_fake_rate']:.4%} "
                         f"({round(summary['dm_fake_rate'] * n):,} of {n:,}) | {summary['dm_duplicate_rate']:.2%} |")
    lines += ["", f"Following: {row['seconds_per_event'] * 1000:.1f} ms per event (the pixel tracking's own time "
              "is `trackcore bench`'s)."]
    (out / "follow_strips.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'follow_strips.json'} and .md")


if __name__ == "__main__":
    main()
