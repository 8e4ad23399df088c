"""Benchmark of neighbour search: trackcore.neighbors backends against scikit-learn's KD-tree.

Times kNN (k = 20) and capped radius search (r chosen so a point has ~20 neighbours on average,
at most 64 kept) on N points in D dimensions, for two data sets: uniform in a box, and clustered
points that look like a learned track embedding (N/10 centres on the unit sphere, 10 points each).
Every timing is one whole graph build on the data against itself, without self pairs.

    OPENBLAS_NUM_THREADS=1 python benchmarks/neighbors.py            # 100k points, ~20 min on 2 cores
    python benchmarks/neighbors.py --quick                            # 10k points

Writes ``neighbors.json`` and ``neighbors.md`` to ``--out`` (default ``outputs/neighbors``, ignored by git;
the committed ``benchmarks/results`` are replaced only when named).
"""

from __future__ import annotations

import os

# FAISS's OpenMP threads and OpenBLAS's threads oversubscribe the cores; must be set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from trackcore.machine import machine_info, machine_line  # noqa: E402
from trackcore.neighbors import knn_graph, radius_graph  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "outputs" / "neighbors"
METHODS = ("faiss-cpu", "torch", "kdtree", "cells", "sklearn-kdtree")
METHOD_LABELS = {
    "faiss-cpu": "trackcore faiss-cpu (IndexFlatL2)",
    "torch": "trackcore torch (chunked addmm)",
    "kdtree": "trackcore kdtree (scipy cKDTree, workers=-1)",
    "cells": "trackcore cells (k-means cells pruned by the triangle inequality)",
    "sklearn-kdtree": "sklearn NearestNeighbors(kd_tree, n_jobs=-1)",
}
TASKS = ("knn", "radius")


def make_uniform(n: int, dim: int, seed: int) -> np.ndarray:
    """Uniform in the unit box. Shapes: ``(n, dim)`` float32."""
    return np.random.default_rng(seed).random((n, dim), dtype=np.float32)


def make_clustered(n: int, dim: int, seed: int, per_cluster: int = 10, spread: float = 0.02) -> np.ndarray:
    """Embedding-like data: ``n / per_cluster`` centres on the unit sphere, Gaussian blobs of ``spread``.

    Shapes: ``(n, dim)`` float32.
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((-(-n // per_cluster), dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    points = np.repeat(centres, per_cluster, axis=0)[:n] + spread * rng.standard_normal((n, dim))
    return points.astype(np.float32)


def calibrate_radius(x: np.ndarray, target: float, seed: int, sample: int = 2000) -> float:
    """Radius at which a point has ``target`` neighbours (itself excluded) on average, from a sample."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(x), size=min(sample, len(x)), replace=False)
    k = min(len(x), int(10 * target) + 1)
    graph = knn_graph(torch.from_numpy(x), k, query=torch.from_numpy(x[rows]), backend="faiss-cpu")
    # each sampled point meets itself at distance 0, hence target + 1 per query
    position = min(int(round((target + 1) * len(rows))), graph.num_edges - 1)
    dist = graph.distance.double().sort().values
    # halfway between two pair distances, so that no pair sits on the boundary and float32/float64 agree
    return float((dist[position - 1] + dist[position]) / 2)


def sklearn_knn(x: np.ndarray, k: int) -> tuple[int, float]:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(algorithm="kd_tree", n_jobs=-1).fit(x)
    dist, _ = nn.kneighbors(n_neighbors=k)  # X=None: a point is not its own neighbour
    return dist.size, float(dist.sum())


def sklearn_radius(x: np.ndarray, r: float, cap: int) -> tuple[int, float]:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(algorithm="kd_tree", n_jobs=-1).fit(x)
    dist, idx = nn.radius_neighbors(radius=r, sort_results=True)
    # the nearest `cap` of each query, as an edge list like radius_graph's
    cols = np.concatenate([i[:cap] for i in idx])
    kept = np.concatenate([d[:cap] for d in dist])
    return len(cols), float(kept.sum())


def run_method(method: str, task: str, x: np.ndarray, k: int, r: float, cap: int) -> tuple[int, float]:
    """One graph build; returns (number of edges, sum of distances) to check methods agree."""
    if method == "sklearn-kdtree":
        return sklearn_knn(x, k) if task == "knn" else sklearn_radius(x, r, cap)
    xt = torch.from_numpy(x)
    if task == "knn":
        graph = knn_graph(xt, k, backend=method)
    else:
        graph = radius_graph(xt, r, max_num_neighbors=cap, backend=method)
    return graph.num_edges, float(graph.distance.double().sum())


def time_it(fn: Callable[[], tuple[int, float]], repeats: int, slow_s: float) -> dict:
    """Median wall time of up to ``repeats`` runs; a run slower than ``slow_s`` is not repeated."""
    times, loads, result = [], [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        loads.append(os.getloadavg()[0])
        if times[-1] > slow_s:
            break
    return {
        "median_s": statistics.median(times),
        "times_s": times,
        "load_avg_1min": loads,
        "repeats": len(times),
        "num_edges": result[0],
        "distance_sum": result[1],
    }


def to_markdown(report: dict) -> str:
    cfg = report["config"]
    lines = [
        "# Neighbour search benchmark",
        "",
        f"N = {cfg['n']} points, D = {cfg['dim']}, kNN k = {cfg['k']}, radius search capped at "
        f"{cfg['cap']} with r giving ~{cfg['target_neighbours']} neighbours per point on average. "
        "Each time is one full graph build of the data against itself (no self pairs), "
        f"median of up to {cfg['repeats']} runs; a run over {cfg['slow_s']:g} s is not repeated "
        "(the `runs` column says how many).",
        "",
    ]
    lines += [machine_line(report["machine"]), ""]
    for name, data in report["datasets"].items():
        lines += [
            f"## {name}: {data['description']}",
            "",
            f"r = {data['radius']:.4g}; mean neighbours kept per point (within r, at most {cfg['cap']}): "
            f"{data['mean_capped_neighbours']:.2f}",
            "",
            "| method | kNN (s) | runs | radius, cap (s) | runs | kNN edges | radius edges |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for method in report["methods"]:
            knn, rad = data["results"][method]["knn"], data["results"][method]["radius"]
            lines.append(
                f"| {METHOD_LABELS[method]} | {knn['median_s']:.2f} | {knn['repeats']} | {rad['median_s']:.2f} | "
                f"{rad['repeats']} | {knn['num_edges']} | {rad['num_edges']} |"
            )
        lines.append("")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=None, help="points per data set (default 100000; 10000 with --quick)")
    parser.add_argument("--dim", type=int, default=12)
    parser.add_argument("--k", type=int, default=20, help="kNN k, and the target mean neighbour count for r")
    parser.add_argument("--cap", type=int, default=64, help="max_num_neighbors of the radius search")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slow-s", type=float, default=20.0, help="runs slower than this are not repeated")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--quick", action="store_true", help="10k points, one run each")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for neighbors.json and neighbors.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    n = args.n if args.n is not None else (10_000 if args.quick else 100_000)
    repeats = 1 if args.quick else args.repeats
    datasets = {
        "uniform": ("uniform in the unit box", make_uniform(n, args.dim, args.seed)),
        "clustered": (
            f"{-(-n // 10)} centres on the unit sphere, 10 points each, Gaussian spread 0.02 (embedding-like)",
            make_clustered(n, args.dim, args.seed),
        ),
    }
    report = {
        "config": {
            "n": n,
            "dim": args.dim,
            "k": args.k,
            "cap": args.cap,
            "target_neighbours": args.k,
            "repeats": repeats,
            "slow_s": args.slow_s,
            "seed": args.seed,
            "quick": args.quick,
        },
        "machine": machine_info(),
        "methods": list(args.methods),
        "datasets": {},
    }
    print(f"neighbour benchmark: n={n} dim={args.dim} k={args.k} methods={args.methods}", flush=True)
    for name, (description, x) in datasets.items():
        r = calibrate_radius(x, args.k, args.seed)
        results: dict[str, dict] = {}
        for method in args.methods:
            results[method] = {}
            for task in TASKS:
                print(f"  {name:9s} {task:6s} {method:15s} ...", end=" ", flush=True)
                build = functools.partial(run_method, method, task, x, args.k, r, args.cap)
                entry = time_it(build, repeats, args.slow_s)
                results[method][task] = entry
                print(f"{entry['median_s']:8.2f} s ({entry['repeats']} runs, {entry['num_edges']} edges)", flush=True)
        reference = results[args.methods[0]]["radius"]["num_edges"]
        report["datasets"][name] = {
            "description": description,
            "radius": r,
            "mean_capped_neighbours": reference / n,
            "results": results,
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "neighbors.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "neighbors.md").write_text(to_markdown(report))
    print(f"wrote {args.out / 'neighbors.json'} and {args.out / 'neighbors.md'}", flush=True)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
