"""``trackcore simulate``: write simulated events as TrackML CSV."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from trackcore.data.simulation import get_preset, simulate_events
    from trackcore.data.trackml_io import read_detectors

    preset = get_preset(args.preset)
    n_events = args.events if args.events is not None else preset.n_train + preset.n_val + preset.n_test
    detectors = read_detectors(args.detectors) if args.detectors else None
    paths = simulate_events(preset, n_events=n_events, seed=args.seed, out_dir=args.out,
                            first_event_id=args.first_event_id, detectors=detectors)
    print(f"wrote {len(paths)} {preset.name} events (seed {args.seed}) to {args.out}")
    return 0
