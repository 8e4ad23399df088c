"""``trackcore prepare``: process events into cached torch_geometric ``Data`` files."""

from __future__ import annotations

import argparse
from pathlib import Path


def run(args: argparse.Namespace) -> int:
    from trackcore.data.dataset import prepare_dataset
    from trackcore.data.processing import ProcessingConfig
    from trackcore.data.trackml_io import list_events

    if args.benchmark == "pt1_pixel":
        config = ProcessingConfig.pt1_pixel()
    else:
        config = ProcessingConfig(volumes=args.volumes, min_pt=args.min_pt,
                                  remove_noise=args.remove_noise, labelled_only=args.labelled_only)
    if args.preset:
        from trackcore.data.simulation import get_preset, simulate_events

        preset = get_preset(args.preset)
        n = args.events if args.events is not None else preset.n_train + preset.n_val + preset.n_test
        sim_dir = Path(args.out) / "sim" / f"{preset.name}-seed{args.seed}"
        sources = simulate_events(preset, n_events=n, seed=args.seed, out_dir=sim_dir)
    else:
        sources = list_events(args.input)
    paths = prepare_dataset(sources, Path(args.out), config, workers=args.workers)
    print(f"{len(paths)} processed events in {paths[0].parent if paths else args.out} (config {config.key()})")
    return 0
