"""``trackcore simulate``: write simulated events as TrackML CSV (built-in engine, or Pythia 8 + ACTS)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    if args.engine == "acts":
        return _run_acts(args)
    if args.mu is not None:
        raise ValueError("--mu is an option of --engine acts (the built-in presets fix their pile-up)")
    from trackcore.data.errors import DataError
    from trackcore.data.geometry import ModuleLocator, get_layers
    from trackcore.data.simulation import get_preset, simulate_events
    from trackcore.data.trackml_io import read_detectors

    preset = get_preset(args.preset or "small")
    n_events = args.events if args.events is not None else preset.n_train + preset.n_val + preset.n_test
    detectors = read_detectors(args.detectors) if args.detectors else None
    if detectors is not None:
        lacking = ModuleLocator(detectors).missing_layers(get_layers(preset.volumes))
        if lacking:
            raise DataError(args.detectors, f"has no modules on {len(lacking)} layer(s) of the {preset.name} "
                                            f"preset, (volume_id, layer_id) {lacking[:5]}")
    paths = simulate_events(preset, n_events=n_events, seed=args.seed, out_dir=args.out,
                            first_event_id=args.first_event_id, detectors=detectors)
    print(f"wrote {len(paths)} {preset.name} events (seed {args.seed}) to {args.out}")
    return 0


def _run_acts(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from trackcore.data.acts_sim import ACTS_PRESETS, get_acts_preset, simulate_acts

    if args.detectors:
        raise ValueError("--detectors is an option of the built-in engine (ACTS uses its Generic detector)")
    preset = get_acts_preset(args.preset) if args.preset else None
    settings = preset.settings if preset else ACTS_PRESETS["acts-ttbar-mu200"].settings
    settings = replace(settings, digitization=args.digitization, **({"mu": args.mu} if args.mu is not None else {}))
    n_events = args.events if args.events is not None else (preset.n_events if preset else 10)
    run = simulate_acts(args.out, n_events=n_events, settings=settings, seed=args.seed,
                        first_event_id=args.first_event_id)
    print(f"wrote {len(run.events)} ACTS ttbar events (mu {settings.mu:g}, seed {args.seed}) to {args.out}, "
          f"ACTS CKF candidates to {args.out}/acts-ckf "
          f"(CKF {run.ckf_seconds_per_event:.2f} s/event, full chain {run.full_chain_seconds_per_event:.2f} s/event)")
    return 0
