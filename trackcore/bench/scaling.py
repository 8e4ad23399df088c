"""Inference cost versus pile-up: time and peak memory of every family as events grow.

Events are simulated at several pile-up values ``mu`` (the preset with ``pileup_mu`` replaced);
every family is timed on each (stages as in :mod:`trackcore.bench.runner`), and a power law
``t = a * hits**b`` is fitted by least squares in log-log to the per-event totals and to each
stage: ``b`` is the scaling exponent (1 = linear in the number of hits).

Peak memory per pile-up value is the process's resident high-water mark (``VmHWM``), which
Linux lets a process reset (``/proc/self/clear_refs``) before each ``mu``; where that is not
possible the never-resetting ``ru_maxrss`` is reported and the JSON says so (``memory_kind``).
On a GPU the CUDA allocator's peak is reset and reported as well.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trackcore.allocator import release_freed_memory
from trackcore.bench.runner import STAGES, event_times, markdown_header, modules_to, peak_rss_gb

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak_memory() -> bool:
    """Reset this process's resident high-water mark (Linux); False where it cannot be reset.

    Memory the process freed but kept (:mod:`trackcore.allocator`) is given back first, so it
    does not count in the next peak.
    """
    release_freed_memory()
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def high_water_gb() -> float:
    """This process's peak resident memory since the last :func:`reset_peak_memory`, GB
    (``ru_maxrss``, the peak since start, where ``/proc`` is unavailable)."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return peak_rss_gb()


def fit_power_law(hits: Sequence[float], seconds: Sequence[float]) -> dict[str, float] | None:
    """Least-squares fit of ``log t = log a + b log hits``.

    Returns ``{"exponent": b, "prefactor_s": a, "r2": ..., "n": ...}``; None with fewer than two
    distinct hit counts (no slope to fit). Non-positive times are a ValueError (a timer bug).
    """
    x = np.log(np.asarray(hits, dtype=float))
    t = np.asarray(seconds, dtype=float)
    if len(x) != len(t):
        raise ValueError(f"fit_power_law: {len(x)} hit counts but {len(t)} times")
    if np.any(t <= 0) or not np.all(np.isfinite(t)):
        raise ValueError("fit_power_law: times must be finite and > 0")
    if len(np.unique(x)) < 2:
        return None
    y = np.log(t)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / total if total > 0 else 1.0
    return {"exponent": float(slope), "prefactor_s": float(math.exp(intercept)), "r2": r2, "n": int(len(x))}


def run_scaling(
    families: Sequence[str],
    events_by_mu: dict[float, Sequence[Any]],
    modules: dict[str, Any],
    *,
    device: str | torch.device = "cpu",
    warmup: int = 1,
    progress: Callable[[str], None] | None = None,
    on_family: Callable[[str, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Time every family on the events of every pile-up value, smallest ``mu`` first.

    Returns, per family: ``points`` (one per event: mu, hits, each stage's seconds, total),
    ``per_mu`` (median hits and total, peak memory GB, per ``mu``) and ``fits`` (the power law of
    the total and of each stage against hits, :func:`fit_power_law`).
    """
    if not events_by_mu or not any(events_by_mu.values()):
        raise ValueError("no events to benchmark")
    device = modules_to(modules, device)
    mus = sorted(events_by_mu)
    out: dict[str, Any] = {}
    with torch.inference_mode():
        for family in families:
            first = next(e for mu in mus for e in events_by_mu[mu])
            for _ in range(warmup):
                event_times(family, modules, first, device)
            points, per_mu = [], []
            for mu in mus:
                if progress:
                    progress(f"{family} mu={mu:g} ({len(events_by_mu[mu])} events)")
                reset_peak_memory()
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(device)
                totals, hits = [], []
                for event in events_by_mu[mu]:
                    times = event_times(family, modules, event, device)
                    total = sum(v for v in times.values() if v is not None)
                    points.append({"mu": mu, "hits": int(event.num_nodes), **times, "total": total})
                    totals.append(total)
                    hits.append(int(event.num_nodes))
                row = {
                    "mu": mu,
                    "hits": statistics.median(hits),
                    "total_s": statistics.median(totals),
                    "peak_memory_gb": high_water_gb(),
                }
                if device.type == "cuda":
                    row["peak_gpu_gb"] = torch.cuda.max_memory_allocated(device) / 1024**3
                per_mu.append(row)
            fits = {"total": fit_power_law([p["hits"] for p in points], [p["total"] for p in points])}
            for stage in STAGES:
                timed = [p for p in points if p[stage] is not None and p[stage] > 0]
                fits[stage] = fit_power_law([p["hits"] for p in timed], [p[stage] for p in timed]) if timed else None
            out[family] = {"points": points, "per_mu": per_mu, "fits": fits, "device": str(device)}
            if on_family is not None:
                on_family(family, out[family])
    return out


def _fmt_fit(fit: dict[str, float] | None) -> str:
    return "n/a" if fit is None else f"{fit['exponent']:.2f} (R² {fit['r2']:.2f})"


def write_scaling_markdown(result: dict[str, Any], path: str | Path) -> Path:
    """Per family and pile-up value: hits, median total seconds and peak memory; then the exponents."""
    lines = [
        *markdown_header(
            f"# trackcore bench --scaling: {result['data']}, pile-up {', '.join(f'{m:g}' for m in result['mus'])} "
            f"({result['events_per_mu']} events each)",
            result,
        ),
        f"Peak memory: {result['memory_kind']}.",
        "",
        "| family | mu | hits (median) | total s/event (median) | peak memory |",
        "|---|---|---|---|---|",
    ]
    for family, r in result["families"].items():
        for row in r["per_mu"]:
            lines.append(
                f"| {family} | {row['mu']:g} | {row['hits']:.0f} | {row['total_s']:.4f} "
                f"| {row['peak_memory_gb']:.2f} GB |"
            )
    lines += [
        "",
        "Fitted exponent b of t = a * hits^b (least squares in log-log over every event):",
        "",
        "| family | total | " + " | ".join(STAGES) + " |",
        "|" + "---|" * (len(STAGES) + 2),
    ]
    for family, r in result["families"].items():
        fits = r["fits"]
        lines.append(
            f"| {family} | {_fmt_fit(fits['total'])} | " + " | ".join(_fmt_fit(fits[s]) for s in STAGES) + " |"
        )
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def plot_scaling(result: dict[str, Any], path: str | Path) -> Path:
    """Log-log time per event vs hits (points and fitted power law) and peak memory vs hits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.5))
    for i, (family, r) in enumerate(result["families"].items()):
        color = f"C{i}"
        hits = np.array([p["hits"] for p in r["points"]], dtype=float)
        totals = np.array([p["total"] for p in r["points"]])
        fit = r["fits"]["total"]
        label = family if fit is None else f"{family}: b = {fit['exponent']:.2f}"
        ax_t.scatter(hits, totals, s=12, color=color, alpha=0.7, label=label)
        if fit is not None:
            grid = np.geomspace(hits.min(), hits.max(), 50)
            ax_t.plot(grid, fit["prefactor_s"] * grid ** fit["exponent"], color=color)
        rows = r["per_mu"]
        ax_m.plot(
            [row["hits"] for row in rows], [row["peak_memory_gb"] for row in rows], "o-", color=color, label=family
        )
    ax_t.set(
        xscale="log",
        yscale="log",
        xlabel="hits per event",
        ylabel="inference s/event (all stages)",
        title=f"time vs hits ({result['data']}, pile-up {min(result['mus']):g}-{max(result['mus']):g})",
    )
    ax_m.set(
        xlabel="hits per event (median per pile-up)", ylabel="peak resident memory (GB)", title="peak memory vs hits"
    )
    for ax in (ax_t, ax_m):
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
