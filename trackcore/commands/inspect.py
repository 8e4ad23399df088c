"""``trackcore inspect PATH``: summary of an event or of every event in a folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from trackcore.data.summary import summarize
from trackcore.data.trackml_io import list_events, read_event


def run(args: argparse.Namespace) -> int:
    path = Path(args.path)
    prefixes = list_events(path) if path.is_dir() else [path]
    summaries = [summarize(read_event(p)) for p in prefixes]
    if args.json:
        print(json.dumps([s.to_dict() for s in summaries], indent=1))
        return 0
    if len(summaries) == 1:
        print(summaries[0].format())
        return 0
    print(f"{path}: {len(summaries)} events")
    print(f"{'event':>10} {'truth':>8} {'hits':>8} {'particles':>10} {'pT>1':>6} {'noise':>7}")
    for s in summaries:
        noise = "?" if s.noise_fraction is None else f"{s.noise_fraction:.1%}"
        pt1 = "?" if s.frac_pt_above_1 is None else f"{s.frac_pt_above_1:.1%}"
        print(f"{s.event_id:>10} {s.truth_kind:>8} {s.n_hits:>8} {s.n_particles or 0:>10} {pt1:>6} {noise:>7}")
    hits = np.array([s.n_hits for s in summaries])
    print(f"hits per event: mean {hits.mean():.0f}, min {hits.min()}, max {hits.max()}")
    volumes = sorted({v for s in summaries for v in s.hits_per_volume})
    per_vol = "  ".join(f"{v}: {np.mean([s.hits_per_volume.get(v, 0) for s in summaries]):.0f}" for v in volumes)
    print(f"mean hits per volume: {per_vol}")
    return 0
