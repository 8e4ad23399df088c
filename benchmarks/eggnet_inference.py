"""EggNet inference on a full-density event: time of the model and of DBSCAN, and peak memory.

The event is the simulator's ``trackml`` preset (TrackML density, all volumes, noise; ~100k
hits). The model is a trained checkpoint (``--ckpt``) or a freshly initialised EggNet of the
given sizes: the cost of a forward pass does not depend on the weights, but DBSCAN's does
(an untrained embedding is one blob), so the clustering time is only meaningful with ``--ckpt``.
The kNN graphs are exact searches through :mod:`trackcore.neighbors` (no all-pairs matrix) and
the edge networks run in chunks under ``torch.inference_mode``.

    python benchmarks/eggnet_inference.py                       # config sizes of eggnet/small.yaml
    python benchmarks/eggnet_inference.py --hidden-dim 128 --steps 8   # the paper's sizes
    python benchmarks/eggnet_inference.py --ckpt runs/eggnet_small/version_0/checkpoints/last.ckpt

Peak memory is the process's maximum resident set size (``ru_maxrss``), which includes the
simulation of the event; it is printed before and after the model so the model's share shows.
Writes ``eggnet_inference.json`` to ``--out`` (default ``outputs/eggnet_inference``, ignored by git; the
committed ``benchmarks/results`` are replaced only when named).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from eggnet.model import EggNet
from trackcore.bench.runner import peak_rss_gb
from trackcore.builders import dbscan
from trackcore.data import ProcessingConfig, process_event
from trackcore.data.simulation.simulate import simulate_event
from trackcore.machine import machine_info, machine_line

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "outputs" / "eggnet_inference"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="trackml")
    parser.add_argument("--ckpt", default=None, help="a trained EggNetModule checkpoint")
    parser.add_argument("--hidden-dim", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4, help="attention steps per iteration")
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--min-samples", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for eggnet_inference.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)

    torch.manual_seed(0)
    data = process_event(simulate_event(args.preset, seed=0, event_id=1000), ProcessingConfig())
    rss_event = peak_rss_gb()
    if args.ckpt:
        from eggnet.module import EggNetModule

        module = EggNetModule.load_from_checkpoint(args.ckpt, map_location="cpu")
        model, eps, min_samples = module.model, module.eps, module.min_samples
    else:
        model = EggNet(in_dim=data.x.shape[1], hidden_dim=args.hidden_dim, n_iterations=args.iterations,
                       steps_per_iteration=args.steps, k=args.k)
        eps, min_samples = args.eps, args.min_samples
    model.eval()
    model_s, build_s = [], []
    for _ in range(args.repeats + 1):  # the first run is a warm-up
        with torch.inference_mode():
            start = time.perf_counter()
            out = model(data.x)
            model_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        candidates = dbscan(out.embedding, eps=eps, min_samples=min_samples, hit_id=data.hit_id, min_hits=3)
        build_s.append(time.perf_counter() - start)
    model_s, build_s = model_s[1:], build_s[1:]
    report = {
        "preset": args.preset,
        "n_hits": int(data.num_nodes),
        "n_edges_per_graph": int(out.graphs[-1].shape[1]),
        "model": "checkpoint " + args.ckpt if args.ckpt else
                 f"untrained EggNet hidden {args.hidden_dim}, {args.iterations} iterations x {args.steps} steps, "
                 f"k {args.k}",
        "model_s_median": statistics.median(model_s),
        "model_s": model_s,
        "dbscan_s_median": statistics.median(build_s),
        "dbscan_s": build_s,
        "dbscan": {"eps": eps, "min_samples": min_samples, "n_tracks": int(candidates.n_tracks)},
        "peak_rss_gb_after_event": rss_event,
        "peak_rss_gb": peak_rss_gb(),
        "machine": machine_info(),
    }
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "eggnet_inference.json").write_text(json.dumps(report, indent=2))
    print(f"{report['n_hits']} hits, {report['n_edges_per_graph']} edges per graph; {report['model']}")
    print(f"model {report['model_s_median']:.2f} s, DBSCAN {report['dbscan_s_median']:.2f} s "
          f"({report['dbscan']['n_tracks']} tracks); peak RSS {report['peak_rss_gb']:.2f} GB "
          f"({rss_event:.2f} GB after simulating the event)")
    print(machine_line(report["machine"]))
    return report


if __name__ == "__main__":
    main()
