"""Time every stage of every family's inference on the same events, warm-up excluded.

Stages, per event (``torch.inference_mode``):

- ``graph_construction``: ec's metric-learning embedding and radius graph (shared by EC, OC and
  HGNN, and timed once for each of them; for OC also ec's edge classifier, whose scores filter
  its graph); EggNet has none outside its model (its kNN graphs are
  rebuilt inside the forward pass), so its entry is null;
- ``gnn``: the family's model (EC's edge classifier, OC's condensation GNN, EggNet, HGNN);
- ``building``: its track building (EC: CC + walk; OC/EggNet: the configured builder; HGNN: the
  configured assignment);
- ``follow`` (only on events of every hit, ``DIR:full``): the family tracks the event's pixel hits and its
  tracks are followed into the strips (:class:`trackcore.refinement.follow.StripFollowing`), as the ACTS CKF
  follows its pixel seeds: the time of the whole detector's tracks, comparable with the CKF's;
- ``metrics``: the shared tracking evaluation of the candidates (the followed ones, on every hit).

Models come from the family configs (``<family>/configs/small.yaml`` sizes),
initialised at random unless a checkpoint is given: a forward pass costs the same whatever the
weights, but building does not (an untrained embedding is one blob), so building and metrics
times are representative only with trained checkpoints. Peak memory is the process's maximum
resident set size after each family (it only grows, so later families include earlier ones'
peak): run one family per process (``--families``) for a clean per-family peak.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from trackcore.compare.pipeline import plan_comparison
from trackcore.train.module import with_outputs

_CPU = torch.device("cpu")
STAGES = ("graph_construction", "gnn", "building", "metrics")
FOLLOW = "follow"
"""The stage timed on :class:`FullEvent` s only."""


@dataclass(frozen=True)
class FullEvent:
    """One event processed twice: its pixel hits (what the families track) and every hit (what their tracks are
    followed into and scored on)."""

    pixel: Any
    full: Any

    @property
    def num_nodes(self) -> int:
        return int(self.full.num_nodes)


def peak_rss_gb() -> float:
    """This process's peak resident set size so far, GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def load_modules(
    families: Sequence[str],
    *,
    kind: str = "small",
    checkpoints: dict[str, str] | None = None,
    refine: Sequence[str] = (),
    configs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The task modules of ``families`` (and ec's metric learning, ``"ml"``, when one needs a graph),
    built from the configs of the data kind ``kind`` (:func:`trackcore.compare.pipeline.step_configs`:
    ``small``, ``real_pt1``, ``acts``, ``full_pixel``, ``full_trackml``), in eval mode, with weights from
    ``checkpoints`` (step -> path) where given and the ``KEY=VALUE`` helix refinement settings ``refine``
    over every family step's own (as ``trackcore compare --refine``). ``configs`` (step -> YAML path) replaces
    the kind's config of those steps (a model of another size, another graph's neighbours).
    """
    from trackcore.compare.pipeline import FAMILIES, refinement_arguments, step_configs
    from trackcore.train.cli import main as train_main

    # the steps each family needs, as `trackcore compare` runs them (ec's graph stage for EC, OC and HGNN ...)
    plan = plan_comparison(families, data="real" if kind == "real_pt1" else "small", work_dir=".")
    named = step_configs(kind)
    steps = {step.name: named.get(step.name, step.config) for family in families for step in plan.steps[family]}
    for what, given in (("checkpoints", checkpoints), ("configs", configs)):
        unknown = sorted(set(given or {}) - set(steps))
        if unknown:
            raise ValueError(f"{what} for steps {unknown} that {list(families)} do not run (steps: {list(steps)})")
    for what, given in (("checkpoint", checkpoints), ("config", configs)):
        missing = [path for path in (given or {}).values() if not Path(path).is_file()]
        if missing:
            raise FileNotFoundError(f"{missing[0]}: {what} not found")
    configs = {**steps, **(configs or {})}
    extra = refinement_arguments(refine)
    modules = {}
    for step, config in configs.items():
        cli = train_main(
            ["--config", str(config), "--trainer.logger=false", *(extra if step in FAMILIES else ())], run=False
        )
        module = cli.model
        ckpt = (checkpoints or {}).get(step)
        if ckpt is not None:
            state = torch.load(ckpt, map_location="cpu", weights_only=False)
            module.load_state_dict(state["state_dict"])
            module.on_load_checkpoint(state)
        modules[step] = module.eval()
    return modules


SIMULATED = ("tiny", "small", "trackml", "trackml-full", "small-full-pixel", "trackml-full-pixel")
"""Simulated bench data: a preset (pT > 1 GeV pixel selection), ``trackml-full`` (every hit) or
``<preset>-full-pixel`` (every pixel hit, the ``full_pixel`` benchmark)."""


def bench_events(
    data: str, n_events: int, *, seed: int = 0, pileup_mu: float | None = None, first_event_id: int = 1000
) -> list[Any]:
    """``n_events`` processed events: a simulated preset (``tiny``, ``small``, ``trackml``) with the
    pT > 1 GeV pixel selection (``trackml-full``: the ``trackml`` preset with every hit), or a folder
    of TrackML CSV events (with ``:pixel`` appended: all pixel hits; ``:all``: the ``pt1_all``
    benchmark, pT > 1 GeV on every volume; ``:full``: every hit, as :class:`FullEvent` s, for following;
    otherwise the pT > 1 GeV pixel selection).
    ``pileup_mu`` replaces a simulated preset's mean number of pile-up vertices."""
    from dataclasses import replace

    from trackcore.data import ProcessingConfig, process_event
    from trackcore.data.processing import get_benchmark
    from trackcore.data.simulation.presets import get_preset

    if data in SIMULATED:
        from trackcore.data.simulation.simulate import simulate_event

        config = ProcessingConfig() if data == "trackml-full" else get_benchmark(
            "full_pixel" if data.endswith("-full-pixel") else "pt1_pixel")
        preset = get_preset(data.split("-")[0])
        if pileup_mu is not None:
            preset = replace(preset, pileup_mu=float(pileup_mu))
        return [
            process_event(simulate_event(preset, seed=seed, event_id=first_event_id + i), config)
            for i in range(n_events)
        ]
    if pileup_mu is not None:
        raise ValueError(f"pile-up can only be set for simulated data ({', '.join(SIMULATED)}), not {data!r}")
    from trackcore.data.trackml_io import list_events, read_event

    folder, _, mode = data.partition(":")
    if mode not in ("", "pixel", "all", "full"):
        raise ValueError(f"--data {data!r}: a folder takes no suffix, ':pixel', ':all' or ':full' (got {mode!r})")
    pixel = ProcessingConfig(volumes=(7, 8, 9))
    if mode == "full":
        raws = [read_event(p) for p in list_events(folder)[:n_events]]
        return [FullEvent(process_event(raw, pixel), process_event(raw, ProcessingConfig())) for raw in raws]
    config = {"pixel": pixel, "all": get_benchmark("pt1_all")}.get(mode, get_benchmark("pt1_pixel"))
    return [process_event(read_event(p), config) for p in list_events(folder)[:n_events]]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], Any], device: torch.device = _CPU) -> tuple[Any, float]:
    """``fn()`` and its wall time; on a GPU the queued kernels are waited for on both sides."""
    _sync(device)
    start = time.perf_counter()
    out = fn()
    _sync(device)
    return out, time.perf_counter() - start


def event_times(
    family: str, modules: dict[str, Any], cpu_event: Any, device: torch.device, follower: Any = None
) -> dict[str, float | None]:
    """Seconds of each of :data:`STAGES` for ``family`` on one event (None: a stage the family lacks); on a
    :class:`FullEvent` also :data:`FOLLOW`, the pixel tracks followed by ``follower`` (default
    :class:`~trackcore.refinement.follow.StripFollowing`)."""
    from trackcore.metrics import EventTruth, evaluate_tracks

    full = None
    if isinstance(cpu_event, FullEvent):
        full, cpu_event = cpu_event.full, cpu_event.pixel
    times: dict[str, float | None] = {"graph_construction": None}
    event, _ = _timed(lambda: cpu_event.to(device), device)  # host-to-device copy: not a stage
    if family != "eggnet":
        graph, times["graph_construction"] = _timed(lambda: modules["ml"].infer(event), device)
        event = with_outputs(event, graph)
        if family == "oc":  # OC runs on ec's scored graph: the edge classifier is part of its graph construction
            scores, seconds = _timed(lambda: modules["ec"].infer(event), device)
            times["graph_construction"] += seconds
            event = with_outputs(event, scores)
    module = modules[family]
    outputs, times["gnn"] = _timed(lambda: module.infer(event), device)
    candidates, times["building"] = _timed(lambda: module.tracks(with_outputs(event, outputs), outputs), device)
    if full is not None:
        if follower is None:
            from trackcore.refinement.follow import StripFollowing

            follower = StripFollowing()
        candidates, times[FOLLOW] = _timed(
            lambda: follower(candidates, full.pos, full.hit_id, full.volume_id, full.layer_id))
        cpu_event = full
    _, times["metrics"] = _timed(lambda: evaluate_tracks(candidates, EventTruth.from_data(cpu_event), module.poi))
    return times


def spread(values: list[float]) -> dict[str, float]:
    """Median, quartiles, extremes, mean and count of ``values`` (seconds; the mean is what the ACTS sequencer's
    per-event times are, the CKF's included)."""
    values = sorted(values)
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return {
        "median_s": statistics.median(values),
        "q1_s": q[0],
        "q3_s": q[2],
        "min_s": values[0],
        "max_s": values[-1],
        "mean_s": statistics.fmean(values),
        "n": len(values),
    }


def modules_to(modules: dict[str, Any], device: str | torch.device) -> torch.device:
    """Move every module to ``device`` (checked: a CUDA device needs a GPU torch can see)."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but torch sees no CUDA GPU")
    for module in modules.values():
        module.to(device)
    return device


def markdown_header(title: str, result: dict[str, Any]) -> list[str]:
    """A benchmark report's first lines: the title and the machine."""
    return [title, "", result["machine_line"], ""]


def run_bench(
    families: Sequence[str],
    events: Sequence[Any],
    modules: dict[str, Any],
    *,
    warmup: int = 1,
    progress: Callable[[str], None] | None = None,
    device: str | torch.device = "cpu",
    on_family: Callable[[str, dict[str, Any]], None] | None = None,
    follower: Any = None,
) -> dict[str, Any]:
    """Per family: each stage's median and quartiles over ``events`` (after ``warmup`` untimed
    events), the total, hits per event and the peak RSS (and, on a GPU, peak GPU memory) after
    the family. ``device``: where the models run (``"cuda"`` for the GPU path). ``follower``: what follows
    the pixel tracks of :class:`FullEvent` s into the strips."""
    if not events:
        raise ValueError("no events to benchmark")
    device = modules_to(modules, device)
    out: dict[str, Any] = {}
    with torch.inference_mode():
        for family in families:
            if progress:
                progress(family)
            for event in events[:warmup]:
                event_times(family, modules, event, device, follower)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            per_event = [event_times(family, modules, e, device, follower) for e in events]
            stages = {}
            for stage in (*STAGES[:-1], FOLLOW, STAGES[-1]) if FOLLOW in per_event[0] else STAGES:
                values = [t[stage] for t in per_event if t[stage] is not None]
                stages[stage] = spread(values) if values else None
            totals = [sum(v for v in t.values() if v is not None) for t in per_event]
            out[family] = {
                "stages": stages,
                "total": spread(totals),
                "peak_rss_gb": peak_rss_gb(),
                "hits_per_event": statistics.median(int(e.num_nodes) for e in events),
                "device": str(device),
            }
            if device.type == "cuda":
                out[family]["peak_gpu_gb"] = torch.cuda.max_memory_allocated(device) / 1024**3
            if on_family is not None:  # e.g. save what is measured so far: a long run may be stopped
                on_family(family, out[family])
    return out


def write_markdown(result: dict[str, Any], path: str | Path) -> Path:
    """The medians as a Markdown table (seconds per event; quartiles in brackets)."""
    entries = list(result["families"].values())
    stages = list(entries[0]["stages"]) if entries else list(STAGES)
    lines = [
        *markdown_header(
            f"# trackcore bench: {result['data']} ({result['n_events']} events, median hits "
            f"{result['hits_per_event']:.0f})",
            result,
        ),
        "| family | " + " | ".join(stages) + " | total | peak RSS |",
        "|" + "---|" * (len(stages) + 3),
    ]
    for family, r in result["families"].items():
        cells = []
        for stage in stages:
            s = r["stages"][stage]
            cells.append("n/a" if s is None else f"{s['median_s']:.4f} [{s['q1_s']:.4f}, {s['q3_s']:.4f}]")
        lines.append(
            f"| {family} | " + " | ".join(cells) + f" | {r['total']['median_s']:.4f} | {r['peak_rss_gb']:.2f} GB |"
        )
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path
