"""``trackcore evaluate STAGE_DIR``: a stage's outputs to the metrics report (JSON + plots).

Writes into ``--out`` (default ``STAGE_DIR/eval/<split>``):

- ``metrics.json``: edge metrics of the stage's graph / scores and the tracking summary, with
  the machine and the exact evaluated folder;
- ``efficiency_pt.png``, ``efficiency_eta.png``: DM efficiency of particles of interest
  (the pT plot drops the pT cut to show the turn-on), Clopper-Pearson intervals;
- ``fake_rate_eta.png``: DM fake rate by candidate eta;
- ``summary.png``: headline rates.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from trackcore.metrics import ParticlesOfInterest
from trackcore.metrics.stage_report import evaluate_stage


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from trackcore.machine import machine_info
    from trackcore.train.writer import read_stage_settings
    from trackcore.viz import plot_tracking_rates

    poi = ParticlesOfInterest(min_pt=args.min_pt, min_hits=args.min_hits, max_abs_eta=args.max_abs_eta)
    edge_cut = args.edge_cut
    if edge_cut is None:
        recorded = read_stage_settings(args.stage_dir) or {}
        edge_cut = float(recorded.get("edge_cut", 0.5))
        source = "the stage's own, from its stage.json" if "edge_cut" in recorded else "the default: no record"
        print(f"edge cut {edge_cut} ({source})")
    report = evaluate_stage(args.stage_dir, split=args.split, poi=poi, edge_cut=edge_cut,
                            progress=lambda files: tqdm(files, desc=f"evaluate {args.split}", unit="event"))
    out = Path(args.out) if args.out else Path(args.stage_dir) / "eval" / args.split
    out.mkdir(parents=True, exist_ok=True)
    result = {**report.to_dict(), "machine": machine_info()}
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    written = [out / "metrics.json"]
    name = args.name or Path(args.stage_dir).resolve().name
    if report.tracking is not None:
        written += plot_tracking_rates({name: report.tracking}, out, min_pt=poi.min_pt)
    _print_report(result)
    for path in written:
        print(f"wrote {path}")
    return 0


def _print_report(result: dict) -> None:
    print(f"{result['stage_dir']} [{result['split']}]: {result['n_events']} events")
    if "edges" in result:
        e = result["edges"]
        keys = ("edges_per_event", "efficiency", "purity_truth_graph", "purity_same_particle", "auc")
        print("edges: " + ", ".join(f"{k} {_fmt(e[k])}" for k in keys))
    if "tracking" in result:
        t = result["tracking"]
        keys = ("dm_efficiency", "dm_fake_rate", "dm_fake_rate_upper", "dm_duplicate_rate", "lhc_efficiency",
                "perfect_efficiency", "trackml_score")
        print("tracks: " + ", ".join(f"{k} {_fmt(t.get(k))}" for k in keys))


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" if abs(value) < 10 else f"{value:.0f}"
