"""``trackcore prepare``: process events into cached torch_geometric ``Data`` files.

Goes through :class:`TrackMLDataModule`, so the files land exactly where training reads them.
"""

from __future__ import annotations

import argparse

# The selection options that a --benchmark fixes; the DataModule refuses both, and so does prepare.
SELECTION_OPTIONS = {"volumes": "--volumes", "min_pt": "--min-pt", "remove_noise": "--remove-noise",
                     "labelled_only": "--labelled-only"}


def run(args: argparse.Namespace) -> int:
    from trackcore.data.datamodule import TrackMLDataModule
    from trackcore.data.processing import ProcessingConfig
    from trackcore.data.trackml_io import list_events

    given = [flag for name, flag in SELECTION_OPTIONS.items() if getattr(args, name) not in (None, False)]
    processing = None
    if args.benchmark is not None and given:
        raise ValueError(f"--benchmark {args.benchmark} is a fixed selection: give it or {', '.join(given)}, "
                         "not both")
    if args.benchmark is None:
        processing = ProcessingConfig(volumes=args.volumes, min_pt=args.min_pt,
                                      remove_noise=args.remove_noise, labelled_only=args.labelled_only)
    if args.preset:
        dm = TrackMLDataModule(preset=args.preset, benchmark=args.benchmark, processing=processing,
                               data_root=args.out, seed=args.seed, workers=args.workers)
    else:
        n = len(list_events(args.input))
        dm = TrackMLDataModule(input_dir=args.input, benchmark=args.benchmark, processing=processing,
                               n_train=n, n_val=0, n_test=0, data_root=args.out, workers=args.workers)
    dm.prepare_data()
    print(f"{dm.n_events} processed events under {dm.processed_root} (config {dm.processing.key()}): "
          f"{dm.prepared.summary()}")
    return 0
