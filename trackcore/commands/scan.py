"""``trackcore scan STAGE_DIR``: choose a clustering builder's parameters on a stage's outputs.

For stages that write per-hit cluster coordinates (OC's ``coords``, or any ``--key``), scans
DBSCAN's ``eps`` x ``min_samples`` and, where the events carry ``beta``, condensation points'
``t_beta`` x ``t_d``: :func:`trackcore.builders.scan_builder` (the scan validation epochs run) on
:class:`~trackcore.builders.DBSCANBuilder` and :class:`~trackcore.builders.CondensationPoints`.
Run it on the validation split, put the best values in the config, then evaluate the test
split. With ``--refine`` (and ``--recover``) every setting is judged (and timed) after the helix-fit refinement, as a
module with ``refine`` builds its tracks. Writes into ``--out`` (default ``STAGE_DIR/scan/<split>``):

- ``scan_<builder>.csv``: every setting with its objective and tracking summary;
- ``scan_<builder>.png``: the objective (DM efficiency - DM fake rate) over the grid;
- ``scan.json``: per builder, the best setting, its summary and its build time per event
  (the best setting re-run on every event, median), with the machine.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_EPS = "0.02,0.05,0.1,0.15,0.2,0.3,0.4,0.5"
DEFAULT_MIN_SAMPLES = "1,2,3,4"
DEFAULT_T_BETA = "0.1,0.3,0.5,0.7,0.9"
DEFAULT_T_D = "0.05,0.1,0.2,0.3,0.5,0.7"


def floats(text: str) -> list[float]:
    """Comma-separated numbers (argparse type)."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers (got {text!r})") from None


def ints(text: str) -> list[int]:
    """Comma-separated integers (argparse type)."""
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers (got {text!r})") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``trackcore scan``."""
    p.add_argument("stage_dir", help="a stage folder with per-hit cluster coordinates (`trackcore predict`)")
    p.add_argument("--split", default="val", help="which split to scan (default: val)")
    p.add_argument("--builder", choices=["dbscan", "condensation", "both"], default="both",
                   help="what to scan (default: both; condensation needs 'beta' in the events)")
    p.add_argument("--key", default="coords", help="the events' cluster-coordinate tensor (default: coords)")
    p.add_argument("--eps", type=floats, default=floats(DEFAULT_EPS), help=f"DBSCAN radii (default {DEFAULT_EPS})")
    p.add_argument("--min-samples", type=ints, default=ints(DEFAULT_MIN_SAMPLES),
                   help=f"DBSCAN min_samples (default {DEFAULT_MIN_SAMPLES})")
    p.add_argument("--t-beta", type=floats, default=floats(DEFAULT_T_BETA),
                   help=f"condensation seed thresholds (default {DEFAULT_T_BETA})")
    p.add_argument("--t-d", type=floats, default=floats(DEFAULT_T_D),
                   help=f"condensation capture radii (default {DEFAULT_T_D})")
    p.add_argument("--min-track-hits", type=int, default=3, help="smaller candidates are dropped (default: 3)")
    p.add_argument("--min-pt", type=float, default=1.0, help="particles of interest: pT > this (GeV)")
    p.add_argument("--min-hits", type=int, default=3, help="particles of interest: at least this many hits")
    p.add_argument("--max-abs-eta", type=float, default=None, help="particles of interest: |eta| below this")
    p.add_argument("--refine", action="store_true",
                   help="judge (and time) every setting after the helix-fit refinement (trackcore.refinement.refine, "
                        "default tolerances), as a module with refine: {} builds its tracks")
    p.add_argument("--recover", action="store_true",
                   help="with --refine: also rebuild free hits into helices through the beam line, as refine: "
                        "{recover: true} does")
    p.add_argument("--out", default=None, help="output folder (default: STAGE_DIR/scan/SPLIT)")


def _read(files: list[Path], key: str) -> list[Any]:
    """One :class:`~trackcore.builders.ScanEvent` per stage event: its ``key`` tensor as ``coords``
    (and its ``beta``, if any) and its truth."""
    from trackcore.builders import ScanEvent
    from trackcore.metrics import EventTruth
    from trackcore.metrics.stage_report import load_stage_event

    events = []
    for path in files:
        event = load_stage_event(path)
        coords = getattr(event, key, None)
        if coords is None:
            have = sorted(k for k in event.keys() if getattr(event[k], "dim", lambda: 0)() == 2)
            raise ValueError(f"{path}: no {key!r} tensor to cluster (2-D tensors here: {have}); see --key")
        events.append(ScanEvent(event, {"coords": coords.float(), "beta": getattr(event, "beta", None)},
                                EventTruth.from_data(event)))
    return events


def _refined(refine: Callable, event: Any, candidates: Any) -> Any:
    return refine(candidates, event.pos, event.hit_id, getattr(event, "volume_id", None),
                  layer_id=getattr(event, "layer_id", None))


def _median_build_seconds(builder: Any, events: list[Any], post: list[Callable]) -> float:
    times = []
    for item, finish in zip(events, post, strict=True):
        start = time.perf_counter()
        finish(builder(item.event, item.outputs))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run(args: argparse.Namespace) -> int:
    from trackcore.builders import CondensationPoints, DBSCANBuilder, scan_builder
    from trackcore.machine import machine_info
    from trackcore.metrics import ParticlesOfInterest
    from trackcore.metrics.stage_report import stage_event_files
    from trackcore.viz import plot_scan

    poi = ParticlesOfInterest(min_pt=args.min_pt, min_hits=args.min_hits, max_abs_eta=args.max_abs_eta)
    files = stage_event_files(args.stage_dir, args.split)
    if args.recover and not args.refine:
        raise ValueError("--recover is a step of the refinement: give --refine too")
    events = _read(files, args.key)
    post = None
    if args.refine:
        from trackcore.refinement.refine import HelixRefinement

        refine = HelixRefinement(recover=args.recover)
        post = [partial(_refined, refine, item.event) for item in events]
    has_beta = all(item.outputs["beta"] is not None for item in events)
    builders = ["dbscan", "condensation"] if args.builder == "both" else [args.builder]
    if "condensation" in builders and not has_beta:
        if args.builder == "condensation":
            raise ValueError(f"{args.stage_dir}/{args.split}: the events carry no 'beta': no condensation points")
        builders.remove("condensation")
        print("no 'beta' in the events: scanning DBSCAN only")
    out = Path(args.out) if args.out else Path(args.stage_dir) / "scan" / args.split
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"stage_dir": str(args.stage_dir), "split": args.split, "n_events": len(events),
                              "key": args.key, "min_track_hits": args.min_track_hits, "refine": bool(args.refine),
                              "recover": bool(args.recover),
                              "particles_of_interest": {"min_pt": poi.min_pt, "min_hits": poi.min_hits,
                                                        "max_abs_eta": poi.max_abs_eta}}
    written = []
    for builder in builders:
        if builder == "dbscan":
            base, grid = DBSCANBuilder(min_hits=args.min_track_hits), {"eps": args.eps, "min_samples": args.min_samples}
        else:
            base, grid = CondensationPoints(min_hits=args.min_track_hits), {"t_beta": args.t_beta, "t_d": args.t_d}
        scan = scan_builder(base, events, grid, poi=poi, postprocess=post)
        seconds = _median_build_seconds(base.with_settings(**scan.best_params), events,
                                        post or [lambda c: c] * len(events))
        scan.table.to_csv(out / f"scan_{builder}.csv", index=False)
        title = f"{builder}: {args.split}, {len(events)} events"
        written += [out / f"scan_{builder}.csv", plot_scan(scan, out / f"scan_{builder}.png", title=title)]
        best = scan.best
        result[builder] = {
            "best": scan.best_params, "objective": scan.best_objective,
            "summary": {k: _number(best[k]) for k in best.index if k not in scan.params and k != "objective"},
            "build_seconds_per_event": seconds,
        }
        s = result[builder]["summary"]
        print(f"{builder}: best {scan.best_params} -> DM eff {s['dm_efficiency']:.4f}, fake {s['dm_fake_rate']:.4f}, "
              f"duplicates {s['dm_duplicate_rate']:.4f}; build {1e3 * seconds:.1f} ms/event (median)")
    result["machine"] = machine_info()
    (out / "scan.json").write_text(json.dumps(result, indent=2) + "\n")
    for path in [out / "scan.json", *written]:
        print(f"wrote {path}")
    return 0


def _number(value: Any) -> float | int | None:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
