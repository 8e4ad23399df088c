"""The comparison report folder: one table, overlaid efficiency plots, event displays, configs.

``report.md`` holds one row per family, every number measured on the same test events:
DM / LHC / perfect efficiency, DM fake and duplicate rates, the TrackML score (where the truth
allows it), parameters, training wall time (each step's, shared steps named: EC's metric learning
is also OC's and HGNN's) and inference wall time per event of each stage (``trackcore predict``
over all splits divided by the events: model, track building and the stage files' I/O). A second
table states how each trained step was trained: epochs, the epoch of the checkpoint used (a best
checkpoint at epoch 0 is called out: that model never improved) and the training events.
``metrics.json`` holds the same and the machine.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from trackcore.compare.pipeline import BASELINES, FamilyResult, StepRecord
from trackcore.data.atomic import atomic_write_text
from trackcore.graph import GRAPH_STEP
from trackcore.metrics import ParticlesOfInterest
from trackcore.metrics.partial_truth import evaluate_stage_as_partial_truth, fully_labelled
from trackcore.metrics.stage_report import StageReport, evaluate_stage, load_stage_event, stage_event_files
from trackcore.metrics.truth import unbatched

COLUMNS = (
    ("dm_efficiency", "DM eff"),
    ("lhc_efficiency", "LHC eff"),
    ("perfect_efficiency", "perfect eff"),
    ("dm_fake_rate", "DM fake"),
    ("dm_duplicate_rate", "DM dup"),
    ("trackml_score", "TrackML score"),
)


SOFT_PT = 0.5
"""The second pT threshold of every report whose particles of interest lie above it (GeV)."""


def _eta_text(reports: Mapping[str, StageReport], poi: ParticlesOfInterest) -> str:
    """The eta range of the particles of interest, as cut or as found."""
    if poi.max_abs_eta is not None:
        return f", |eta| < {poi.max_abs_eta:g}"
    p = next(iter(reports.values())).tracking.particles
    eta = p["eta"].to_numpy(float)[p["of_interest"].to_numpy(bool)]
    return f", every eta (|eta| up to {abs(eta).max():.1f} here)" if len(eta) else ""


def _processing(stage_dir: Path) -> tuple[Any, dict[str, Any]]:
    """The first test event of ``stage_dir`` and the processing recorded in it."""
    event = load_stage_event(stage_event_files(stage_dir, "test")[0])
    processing = unbatched(getattr(event, "processing", None) or {})
    return event, ({key: unbatched(value) for key, value in processing.items()} if isinstance(processing, dict) else {})


def _truth_cuts(processing: dict[str, Any]) -> list[str]:
    """What the processing removed using the truth, in words (empty: nothing)."""
    cuts = (("min_pt", f"hits of particles with pT > {processing.get('min_pt')} GeV only"),
            ("remove_noise", "noise removed"), ("labelled_only", "unlabelled hits removed"))
    return [text for key, text in cuts if processing.get(key)]


def _input_text(event: Any, processing: dict[str, Any], report: StageReport) -> str:
    """What the trackers read: ``processing`` as recorded in ``event`` (the first test event, with its
    noise), and the hits per event of ``report`` (its evaluation)."""
    import numpy as np

    volumes = processing.get("volumes")
    volumes = [volumes] if isinstance(volumes, int) else volumes
    where = "every volume" if not volumes else f"volumes {', '.join(str(v) for v in volumes)}"
    truth_cuts = _truth_cuts(processing)
    hits = int(np.median(report.tracking.events["n_hits"].to_numpy()))
    if truth_cuts:
        return (f"Tracker input: {where}, {', '.join(truth_cuts)} USING THE TRUTH before any tracker ran (not a "
                f"tracking result on real input); median {hits:,} hits per test event.")
    noise = float(np.mean(event.particle_id.numpy() == 0))
    return (f"Tracker input: every hit of {where}, nothing removed with the truth (noise and every pT kept; the "
            f"truth only scores); median {hits:,} hits per test event, {noise:.1%} noise (or unlabelled) in the first.")


def _pct(value: Any) -> str:
    return "n/a" if value is None or not math.isfinite(float(value)) else f"{100 * float(value):.2f}%"


def _fakes(summary: Mapping[str, float]) -> str:
    """The DM fake rate with its count: near zero, "1 of 2,132" says more than "0.05%"."""
    rate, n = summary.get("dm_fake_rate", math.nan), summary.get("n_candidates", math.nan)
    if not (math.isfinite(rate) and math.isfinite(n)):
        return _pct(rate)
    return f"{_pct(rate)} ({round(rate * n):,} of {round(n):,})"


def _cell(summary: Mapping[str, float], key: str) -> str:
    """One metric of the table: the TrackML score as a number, the fake rate with its count, rates in %."""
    if key == "trackml_score":
        value = summary.get(key, math.nan)
        return "n/a" if not math.isfinite(value) else f"{value:.4f}"
    return _fakes(summary) if key == "dm_fake_rate" else _pct(summary.get(key))


def _seconds(value: float) -> str:
    if not math.isfinite(value):
        return "reused"
    return f"{value / 60:.1f} min" if value >= 600 else (f"{value:.0f} s" if value >= 10 else f"{value:.2f} s")


def _machine(info: Mapping[str, Any]) -> str:
    gpu = info.get("gpu") or "no GPU"
    torch_version = info.get("versions", {}).get("torch", "?")
    return f"{info.get('cpu_model', 'CPU')} x {info.get('cpus_usable', '?')} cores, {gpu}, torch {torch_version}"


@dataclass(frozen=True)
class StepTraining:
    """How one step's model was trained, as the report states it; None where not known.

    Args:
        epochs: epochs trained.
        best_epoch: 0-based epoch of the (best-validation) checkpoint the stage was predicted with.
        n_train_events: events of the training split.
        train_events_per_epoch: events each epoch saw, when fewer than ``n_train_events``
            (``--trainer.limit_train_batches``, as in quick mode).
    """

    epochs: int | None = None
    best_epoch: int | None = None
    n_train_events: int | None = None
    train_events_per_epoch: int | None = None


def _checkpoint_epoch(path: Path) -> int | None:
    """The 0-based epoch a Lightning checkpoint was saved at (None when it records none)."""
    import torch

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as err:  # torch/pickle raise many types; none names the file
        raise ValueError(f"{path}: not a readable checkpoint ({type(err).__name__}: {err})") from err
    epoch = checkpoint.get("epoch") if isinstance(checkpoint, dict) else None
    return int(epoch) if isinstance(epoch, int) else None


def _resolved_config(config: Path) -> dict[str, Any] | None:
    """A run's resolved config (None: no file, or not a mapping)."""
    import yaml

    try:
        resolved = yaml.safe_load(config.read_text()) if config.is_file() else None
    except yaml.YAMLError as err:
        raise ValueError(f"{config}: not a readable YAML config ({err})") from None
    return resolved if isinstance(resolved, dict) else None


def _events_per_epoch(config: Path, n_train: int) -> int | None:
    """Training events per epoch under the resolved config's ``limit_train_batches`` (None: all)."""
    resolved = _resolved_config(config)
    if resolved is None:
        return None
    limit = (resolved.get("trainer") or {}).get("limit_train_batches")
    batch = ((resolved.get("data") or {}).get("init_args") or {}).get("batch_size") or 1
    n_batches = math.ceil(n_train / batch)
    if isinstance(limit, bool) or limit is None or (isinstance(limit, float) and limit >= 1.0):
        return None
    seen = min(limit, n_batches) if isinstance(limit, int) else int(n_batches * float(limit))
    return min(seen * batch, n_train) if seen < n_batches else None


def _input_train_count(config: Path) -> int | None:
    """The training events a run read, from its resolved config: the train split of its input stage
    (``data.init_args.input_dir``) or the simulated preset's ``n_train`` (None: neither)."""
    init = ((_resolved_config(config) or {}).get("data") or {}).get("init_args") or {}
    if init.get("input_dir"):
        train = Path(init["input_dir"]) / "train"
        return sum(1 for _ in train.glob("event*.pt")) if train.is_dir() else None
    n_train = init.get("n_train")
    return n_train if isinstance(n_train, int) and not isinstance(n_train, bool) else None


def read_step_training(record: StepRecord) -> StepTraining:
    """What a step's run left on disk says about its training (:class:`StepTraining`).

    Read from the layout of :func:`trackcore.compare.pipeline.run_family`: the best checkpoint
    ``<work>/runs/<step>/version_*/checkpoints/*.ckpt`` (its epoch), ``last.ckpt`` beside it (the
    epochs trained), the stage ``<work>/stages/<step>/train`` (the training events) and the
    resolved config (``limit_train_batches``). What is not there stays None.

    Raises:
        ValueError: a checkpoint or config that exists but cannot be read (named).
    """
    if record.checkpoint is None:
        return StepTraining()
    best = Path(record.checkpoint)
    best_epoch = _checkpoint_epoch(best) if best.is_file() else None
    last = best.with_name("last.ckpt")
    last_epoch = _checkpoint_epoch(last) if last.is_file() else None
    epochs = None if last_epoch is None else last_epoch + 1
    n_train = per_epoch = None
    if len(best.parents) > 4:
        train = best.parents[4] / "stages" / best.parents[2].name / "train"
        # a stage written without its train split (quick mode): the run's input says
        n_train = sum(1 for _ in train.glob("event*.pt")) if train.is_dir() else _input_train_count(Path(record.config))
        if n_train is not None:
            per_epoch = _events_per_epoch(Path(record.config), n_train)
    return StepTraining(epochs=epochs, best_epoch=best_epoch, n_train_events=n_train, train_events_per_epoch=per_epoch)


def _users(results: Mapping[str, FamilyResult]) -> dict[str, list[str]]:
    """Step name -> the families whose tracks it makes (a step of several is shared, trained once)."""
    users: dict[str, list[str]] = {}
    for family, result in results.items():
        for step in result.steps:
            users.setdefault(step, []).append(family)
    return users


def _training(result: FamilyResult, users: Mapping[str, list[str]]) -> str:
    """The training cell: each step's wall time, shared steps named, and the total."""
    if result.family in BASELINES:
        return "none (not trained)"
    if result.steps and all(r.trained_elsewhere for r in result.steps.values()):
        return "none here (models of --models-from)"
    if len(result.reused_steps) == len(result.steps):
        return "reused (trained before)"
    parts = [f"{step} {_seconds(r.train_seconds)}{' (shared)' if len(users[step]) > 1 else ''}"
             for step, r in result.steps.items()]
    return f"{_seconds(result.train_seconds)} = " + " + ".join(parts) if len(parts) > 1 else parts[0]


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _best_epoch_cell(t: StepTraining) -> str:
    if t.best_epoch is None:
        return "?"
    if t.best_epoch == 0:
        return "**0 (first epoch: never improved)**" if t.epochs != 1 else "0 (the only epoch)"
    return str(t.best_epoch)


def _graph_section(
    results: Mapping[str, FamilyResult], reports: Mapping[str, StageReport], poi: ParticlesOfInterest
) -> tuple[list[str], dict[str, Any]]:
    """The graph-construction line: truth edges of the particles of interest kept, and edges per hit, on
    the test events of the shared graph stage (``ml``), when a family's chain has one."""
    users = [f for f, r in results.items() if GRAPH_STEP.name in r.steps]
    if not users:
        return [], {}
    stage = results[users[0]].stage_dir.parent / GRAPH_STEP.name
    if not stage_event_files(stage, "test"):
        return [], {}
    edges = evaluate_stage(stage, split="test", poi=poi).edges_truth_graph
    if edges is None:
        return [], {}
    hits = int(reports[users[0]].tracking.events["n_hits"].sum())
    per_hit = edges.n_edges / max(hits, 1)
    line = (f"Graph construction (`{GRAPH_STEP.name}`, used by {', '.join(users)}), test events: "
            f"{_pct(edges.efficiency)} of the truth edges of the particles of interest (pT > {poi.min_pt:g} GeV) "
            f"kept, {per_hit:.1f} edges per hit ({edges.n_edges:,} edges on {hits:,} hits), "
            f"purity {_pct(edges.purity)}.")
    return [line, ""], {"efficiency": edges.efficiency, "purity": edges.purity, "edges_per_hit": per_hit,
                        "n_edges": edges.n_edges, "n_hits": hits}


def _training_section(
    results: Mapping[str, FamilyResult], training: Mapping[str, StepTraining] | None
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The per-step training table, its notes (epoch-0 checkpoints called out) and its JSON."""
    users = _users(results)
    records: dict[str, StepRecord] = {}
    for result in results.values():
        for step, record in result.steps.items():
            if record.checkpoint is not None and result.family not in BASELINES:
                records.setdefault(step, record)
    if not records:
        return [], {}
    header = ["step", "used by", "training wall time", "epochs", "best epoch (used)", "training events"]
    lines = ["## Training", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    notes, table = [], {}
    for step, record in records.items():
        t = (training or {}).get(step) or read_step_training(record)
        events = _count(t.n_train_events)
        if t.train_events_per_epoch is not None:
            events += f" ({t.train_events_per_epoch:,} per epoch)"
        wall = "elsewhere (not in this run)" if record.trained_elsewhere else _seconds(record.train_seconds)
        lines.append(f"| {step} | {', '.join(users[step])} | {wall} | {_count(t.epochs)} | {_best_epoch_cell(t)} | "
                     f"{events} |")
        if t.best_epoch == 0 and t.epochs != 1:
            of = f", the first of {t.epochs}" if t.epochs is not None else ", the first"
            notes.append(f"- **{step}** (used by {', '.join(users[step])}): the checkpoint used is from epoch 0{of}: "
                         "the model never improved on validation after its first epoch.")
        table[step] = {**asdict(t), "used_by": users[step], "train_seconds": record.train_seconds,
                       "trained_elsewhere": record.trained_elsewhere}
    lines += [
        "",
        "A step used by several families was trained once; its wall time is in each of their totals above. "
        "Epochs and the epoch of the checkpoint used are read from the step's checkpoints, the training events "
        'from its stage\'s train split (or its input\'s, for a stage written without one); "?": not recorded.',
        *([""] + notes if notes else []),
        "",
    ]
    return lines, table


def write_report(
    results: Mapping[str, FamilyResult],
    out: str | Path,
    *,
    poi: ParticlesOfInterest,
    data: str,
    quick: bool,
    n_displays: int = 1,
    models_from: str | Path | None = None,
    training: Mapping[str, StepTraining] | None = None,
) -> Path:
    """Evaluate every family's test split and write the report folder; returns ``report.md``.

    Args:
        results: family -> what running it left.
        out: the report folder.
        poi: particles of interest.
        data: the ``--data`` of the comparison, named in the report and on every figure.
        quick: quick mode (named in the title).
        n_displays: event displays per family (the first test events).
        models_from: the comparison whose checkpoints every step used, if any.
        training: step name -> how it was trained; a step not given is read from its run's files
            (:func:`read_step_training`).

    Raises:
        ValueError: a family's stage has no test events with track candidates, or a checkpoint or
            resolved config that cannot be read.
    """
    from trackcore.candidates import TrackCandidates
    from trackcore.machine import machine_info
    from trackcore.metrics import EventTruth, evaluate_tracks
    from trackcore.viz import plot_event_display, plot_tracking_rates

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reports: dict[str, StageReport] = {}
    for family, result in results.items():
        report = evaluate_stage(result.stage_dir, split="test", poi=poi)
        if report.tracking is None:
            raise ValueError(f"{result.stage_dir}: the {family} stage's test events carry no track candidates")
        reports[family] = report
    summaries = {f: r.tracking.summary() for f, r in reports.items()}
    soft_poi = replace(poi, min_pt=SOFT_PT) if poi.min_pt > SOFT_PT else None
    for family, result in results.items() if soft_poi is not None else ():
        soft = evaluate_stage(result.stage_dir, split="test", poi=soft_poi).tracking.summary()
        summaries[family][f"dm_efficiency_pt{SOFT_PT:g}"] = soft["dm_efficiency"]
        summaries[family][f"n_particles_pt{SOFT_PT:g}"] = soft["n_particles"]
    columns = COLUMNS if soft_poi is None else (
        COLUMNS[:1] + ((f"dm_efficiency_pt{SOFT_PT:g}", f"DM eff pT > {SOFT_PT:g}"),) + COLUMNS[1:])
    first = next(iter(results.values())).stage_dir
    first_event, processing = _processing(first)
    if not _truth_cuts(processing) and fully_labelled(first):
        # full-event benchmarks on simulated events: also scored as the real events are (their partial labels)
        for family, result in results.items():
            partial = evaluate_stage_as_partial_truth(result.stage_dir, poi=poi).tracking.summary()
            summaries[family]["dm_efficiency_partial_truth"] = partial["dm_efficiency"]
        at = 1 + (soft_poi is not None)
        columns = columns[:at] + (("dm_efficiency_partial_truth", "DM eff, real events' labels"),) + columns[at:]

    users = _users(results)
    header = ["family", *(label for _, label in columns), "parameters", "training (each step; shared steps too)",
              "inference per event"]
    lines = [
        f"# Tracker comparison: {data}{' (quick mode)' if quick else ''}",
        "",
        f"Test events: {next(iter(reports.values())).n_events}; particles of interest: pT > {poi.min_pt:g} GeV, "
        f">= {poi.min_hits} hits{_eta_text(reports, poi)}"
        + (f" (and pT > {SOFT_PT:g} GeV: {_count(int(next(iter(summaries.values()))[f'n_particles_pt{SOFT_PT:g}']))} "
           "particles)" if soft_poi is not None else "")
        + f"; a candidate matched to a particle of any pT is no fake. Machine: {_machine(machine_info())}.",
        "",
        _input_text(first_event, processing, next(iter(reports.values()))),
        *(
            [
                "",
                f"The GNNs were not trained on these events: every step used the best checkpoint of the "
                f"comparison in `{models_from}` (trained on its own data).",
            ]
            if models_from is not None
            else []
        ),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    table: dict[str, dict[str, Any]] = {}
    for family, result in results.items():
        s = summaries[family]
        per_event = {step: r.predict_seconds / max(r.n_events, 1) for step, r in result.steps.items()}
        inference = ", ".join(f"{step} {_seconds(v)}" for step, v in per_event.items())
        row = [
            family,
            *(_cell(s, key) for key, _ in columns),
            f"{result.n_parameters:,}",
            _training(result, users),
            inference,
        ]
        lines.append("| " + " | ".join(row) + " |")
        table[family] = {
            "summary": {k: (None if not math.isfinite(v) else v) for k, v in s.items()},
            "n_parameters": result.n_parameters,
            "train_seconds": result.train_seconds,
            "inference_seconds_per_event": per_event,
            "stage_dir": str(result.stage_dir),
            "checkpoints": {k: str(r.checkpoint) for k, r in result.steps.items()},
        }
    lines += [
        "",
        *(["\"DM eff, real events' labels\": the same tracks scored with the real events' partial labelling "
           "(at most one labelled hit per particle and layer, barrel pT > 0.5 and end-cap pT > 1 GeV; "
           "`trackcore.metrics.partial_truth`): the number to set beside a real-event efficiency.", ""]
          if any(key == "dm_efficiency_partial_truth" for key, _ in columns) else []),
        "Inference per event: `trackcore predict` wall time of each step divided by the events it wrote "
        '(model, track building and file I/O; the time measured when the stage was written where an existing '
        'stage was read, "reused" where that was not recorded). acts-ckf: ACTS\'s own '
        "timing of space points, seeding, CKF and ambiguity resolution per event (1 thread), from the simulation run.",
        "",
    ]
    graph_lines, graph_table = _graph_section(results, reports, poi)
    lines += graph_lines
    training_lines, training_table = _training_section(results, training)
    lines += training_lines
    for family, result in results.items():
        table[family]["training"] = {step: training_table[step] for step in result.steps if step in training_table}

    dataset = Path(data).name or data
    plots = plot_tracking_rates({f: r.tracking for f, r in reports.items()}, out, min_pt=poi.min_pt, dataset=dataset)
    for family, result in results.items():
        for path in stage_event_files(result.stage_dir, "test")[:n_displays]:
            event = load_stage_event(path)
            candidates = TrackCandidates(hit_id=event.track_hit_id.numpy(), track_id=event.track_id.numpy())
            try:
                evaluation = evaluate_tracks(candidates, EventTruth.from_data(event), poi)
            except ValueError as err:
                raise ValueError(f"{path}: cannot evaluate this event for its display: {err}") from err
            plots.append(
                plot_event_display(
                    event.pos,
                    out / "displays" / f"{family}_{path.stem}.png",
                    candidates=candidates,
                    hit_id=event.hit_id,
                    particle_id=event.particle_id,
                    evaluation=evaluation,
                    title=f"{family}: {path.stem}",
                    dataset=dataset,
                    max_hits=5000,
                )
            )
    lines += [
        "## Figures",
        "",
        "Efficiencies are binned in the particle's pT and eta, with a zoomed panel under the full range where they "
        "are near 1 (a point below the zoomed range is an arrow on its lower edge; error bars past it are cut at its "
        "edges); the fake rate is binned in the candidate's eta (the median of its hits' eta). Event displays (the "
        "first test event(s) of each family, at most 5,000 hits drawn): fake candidates (no DM match) red and "
        "dashed, hits of missed particles of interest ringed and joined by a dotted line, hits that a matched "
        "candidate took from another particle or from noise crossed; the titles count them over the whole event.",
        "",
    ]
    lines += [f"![{p.stem}]({p.relative_to(out)})" for p in plots]
    configs = out / "configs"
    for family, result in results.items():
        for step, record in result.steps.items():
            configs.mkdir(exist_ok=True)
            atomic_write_text(configs / f"{family}_{step}.yaml", Path(record.config).read_text())
    lines += ["", "Resolved configs: `configs/<family>_<step>.yaml`."]
    atomic_write_text(
        out / "metrics.json",
        json.dumps(_json_ready({"data": data, "quick": quick,
                                "models_from": None if models_from is None else str(models_from),
                                "graph": graph_table or None, "families": table, "machine": machine_info()}),
                   indent=2, default=str, allow_nan=False)
        + "\n",
    )
    report_md = out / "report.md"
    atomic_write_text(report_md, "\n".join(lines) + "\n")
    return report_md


def _json_ready(value: Any) -> Any:
    """``value`` with every non-finite float as None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value
