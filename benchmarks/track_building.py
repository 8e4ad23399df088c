"""Benchmark of track building and metrics on a full-density simulated event (~100k hits).

The event is the simulator's ``trackml`` preset (TrackML density, all volumes, noise). Each
builder gets synthetic inputs derived from its truth, shaped like a trained model's output:

- an edge-scored graph: the kNN graph (k = 10) of the hits in space plus the truth graph,
  ~1M edges, true edges scored ~Beta(8, 1), the others ~Beta(1, 10): connected components
  (cut 0.5) and CC-and-walk;
- a 24-dim embedding: each particle a random unit vector, its hits spread by 0.01 per
  dimension, noise hits random unit vectors: DBSCAN (eps 0.1, min_samples 3) and
  condensation points (one high-beta hit per particle);
- a bipartite hit-to-candidate graph (the true candidate, weight ~Beta(8, 1), plus 4 random
  ones, ~Beta(1, 8); noise hits score low everywhere):
  threshold, argmax and per-module matching assignment (min weight 0.5);
- the metrics (matching, summary, binned efficiencies and fake rate) on every result.

    python benchmarks/track_building.py            # trackml preset, median of 3 after a warm-up
    python benchmarks/track_building.py --quick    # small preset, 1 repeat

Writes ``track_building.json`` and ``track_building.md`` to ``--out`` (default ``outputs/track_building``,
ignored by git; the committed ``benchmarks/results`` are replaced only when named).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from trackcore.builders import (
    argmax_assignment,
    cc_and_walk,
    condensation_clustering,
    connected_components,
    dbscan,
    matching_assignment,
    module_key,
    threshold_assignment,
)
from trackcore.data.simulation import simulate_event
from trackcore.data.truth_graph import event_track_edges
from trackcore.machine import machine_info, machine_line
from trackcore.metrics import EventTruth, edge_truth, evaluate_tracks
from trackcore.neighbors import knn_graph

TARGET_S = {"connected_components": 5.0, "cc_and_walk": 5.0, "dbscan": 5.0, "metrics": 1.0}


def make_inputs(preset: str, seed: int) -> dict:
    """Simulate one event and derive every builder's input from its truth."""
    rng = np.random.default_rng(seed)
    event = simulate_event(preset, seed=seed, event_id=1000)
    truth = EventTruth.from_event(event)
    hits = event.hits
    pos = hits[["x", "y", "z"]].to_numpy(np.float32)
    n = len(pos)
    row = truth.particle_row_j  # particle row of each hit, -1 for noise

    knn = knn_graph(torch.from_numpy(pos / 1000.0), 10, backend="kdtree").edge_index.numpy()
    true_edges = event_track_edges(event)
    edges = np.unique(np.concatenate([knn, true_edges], axis=1), axis=1)
    is_true = edge_truth(edges, n, track_edges=true_edges)
    scores = np.where(is_true, rng.beta(8, 1, edges.shape[1]), rng.beta(1, 10, edges.shape[1]))

    dim, n_p = 24, len(truth.particle_id_p)
    centre = rng.normal(size=(n_p, dim))
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    noise = rng.normal(size=(n, dim))
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    embedding = np.where(row[:, None] >= 0, centre[np.maximum(row, 0)] + 0.01 * rng.normal(size=(n, dim)), noise)
    beta = np.full(n, 0.3)
    first = np.unique(row[row >= 0], return_index=True)[1]
    beta[np.flatnonzero(row >= 0)[first]] = 0.9

    extra = 4
    hit_e = np.repeat(np.arange(n), 1 + extra)
    cand_e = np.concatenate(
        [np.where(row >= 0, row, rng.integers(0, n_p, n))[:, None], rng.integers(0, n_p, (n, extra))], axis=1
    ).ravel()
    # noise hits score low on every candidate, as a trained model's would
    first_w = np.where(row[:, None] >= 0, rng.beta(8, 1, (n, 1)), rng.beta(1, 8, (n, 1)))
    weight_e = np.concatenate([first_w, rng.beta(1, 8, (n, extra))], axis=1).ravel()
    pair = np.unique(cand_e * n + hit_e, return_index=True)[1]  # a random extra may repeat the true one
    hit_e, cand_e, weight_e = hit_e[pair], cand_e[pair], weight_e[pair]
    # One hit per (track, module): grouping by layer would forbid TrackML's double hits on overlapping modules.
    module = module_key(hits["volume_id"].to_numpy(), hits["layer_id"].to_numpy(), hits["module_id"].to_numpy())
    return {
        "event": event,
        "truth": truth,
        "hit_id": hits["hit_id"].to_numpy(),
        "n_hits": n,
        "edges": edges,
        "scores": scores,
        "direction": np.hypot(pos[:, 0], pos[:, 1]),
        "embedding": embedding.astype(np.float32),
        "beta": beta,
        "bipartite": (hit_e, cand_e, weight_e),
        "module": module,
    }


def builders(inp: dict) -> dict[str, Callable]:
    n, hit_id = inp["n_hits"], inp["hit_id"]
    hit_e, cand_e, weight_e = inp["bipartite"]
    return {
        "connected_components": lambda: connected_components(
            inp["edges"], n, scores=inp["scores"], threshold=0.5, hit_id=hit_id, min_hits=3
        ),
        "cc_and_walk": lambda: cc_and_walk(
            inp["edges"],
            inp["scores"],
            n,
            direction=inp["direction"],
            cc_cut=0.5,
            walk_min=0.3,
            walk_max=0.8,
            hit_id=hit_id,
        ),
        "dbscan": lambda: dbscan(inp["embedding"], 0.1, 3, hit_id=hit_id, min_hits=3),
        "condensation": lambda: condensation_clustering(
            inp["embedding"], inp["beta"], t_beta=0.5, t_d=0.2, hit_id=hit_id, min_hits=3
        ),
        "assign_threshold": lambda: threshold_assignment(
            hit_e, cand_e, weight_e, n, threshold=0.5, min_hits=3, hit_id=hit_id
        ),
        "assign_argmax": lambda: argmax_assignment(hit_e, cand_e, weight_e, n, min_hits=3, hit_id=hit_id),
        "assign_matching": lambda: matching_assignment(
            hit_e, cand_e, weight_e, n, group_j=inp["module"], min_weight=0.5, min_hits=3, hit_id=hit_id
        ),
    }


def timed(fn: Callable, repeats: int) -> tuple[object, list[float]]:
    """Result and wall times of one warm-up plus ``repeats`` runs (the warm-up is not counted)."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, times


def run_metrics(candidates, truth: EventTruth) -> dict:
    ev = evaluate_tracks(candidates, truth)
    ev.binned_efficiency("pt"), ev.binned_efficiency("eta"), ev.binned_fake_rate()
    return ev.summary()


def to_markdown(report: dict) -> str:
    cfg = report["config"]
    lines = [
        "# Track building and metrics benchmark",
        "",
        f"One `{cfg['preset']}` event (seed {cfg['seed']}): {report['n_hits']} hits, "
        f"{report['n_edges']} scored edges, {report['n_particles']} particles. Times are the median of "
        f"{cfg['repeats']} runs after one warm-up run; `metrics` is matching + summary + binned rates "
        "on that builder's candidates.",
        "",
        machine_line(report["machine"]),
        "",
        "| builder | build (s) | metrics (s) | tracks | DM eff. | DM fake | DM dup. | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in report["results"].items():
        target = TARGET_S.get(name)
        verdict = "" if target is None else (f"< {target:g} s: " + ("met" if r["median_s"] < target else "MISSED"))
        s = r["summary"]
        lines.append(
            f"| {name} | {r['median_s']:.3f} | {r['metrics_median_s']:.3f} | {r['n_tracks']} | "
            f"{s['dm_efficiency']:.4f} | {s['dm_fake_rate']:.4f} | {s['dm_duplicate_rate']:.4f} | {verdict} |"
        )
    worst = max(r["metrics_median_s"] for r in report["results"].values())
    lines += [
        "",
        f"Slowest metrics evaluation: {worst:.3f} s (target < {TARGET_S['metrics']:g} s: "
        f"{'met' if worst < TARGET_S['metrics'] else 'MISSED'}).",
        "",
    ]
    return "\n".join(lines)


DEFAULT_OUT = Path(__file__).resolve().parents[1] / "outputs" / "track_building"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="trackml")
    parser.add_argument("--seed", type=int, default=1, help="seed 1 gives a 101k-hit event")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small preset, 1 repeat")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the JSON and Markdown")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.quick:
        args.preset, args.repeats = "small", 1

    print(f"simulating one {args.preset} event ...", flush=True)
    inp = make_inputs(args.preset, args.seed)
    report = {
        "config": {"preset": args.preset, "seed": args.seed, "repeats": args.repeats},
        "machine": machine_info(),
        "n_hits": inp["n_hits"],
        "n_edges": int(inp["edges"].shape[1]),
        "n_particles": len(inp["truth"].particle_id_p),
        "results": {},
    }
    for name, fn in builders(inp).items():
        cands, times = timed(fn, args.repeats)
        summary, mtimes = timed(lambda c=cands: run_metrics(c, inp["truth"]), args.repeats)
        report["results"][name] = {
            "median_s": statistics.median(times),
            "times_s": times,
            "metrics_median_s": statistics.median(mtimes),
            "metrics_times_s": mtimes,
            "n_tracks": cands.n_tracks,
            "summary": summary,
        }
        print(
            f"{name:22s} {statistics.median(times):7.3f} s   metrics {statistics.median(mtimes):.3f} s   "
            f"DM eff {summary['dm_efficiency']:.4f}",
            flush=True,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "track_building.json").write_text(json.dumps(report, indent=2, default=float))
    (args.out / "track_building.md").write_text(to_markdown(report))
    print(f"wrote {args.out / 'track_building.md'}")
    return report


if __name__ == "__main__":
    main()
