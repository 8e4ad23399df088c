"""The comparison report folder: one table, overlaid efficiency plots, event displays, configs.

``report.md`` holds one row per family, every number measured on the same test events:
DM / LHC / perfect efficiency, DM fake and duplicate rates, the TrackML score (where the truth
allows it), parameters, training wall time and inference wall time per event of each stage
(``trackcore predict`` over all splits divided by the events: model, track building and the
stage files' I/O). ``metrics.json`` holds the same and the machine.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trackcore.compare.pipeline import BASELINES, FamilyResult
from trackcore.metrics import ParticlesOfInterest
from trackcore.metrics.stage_report import StageReport, evaluate_stage, load_stage_event, stage_event_files

COLUMNS = (
    ("dm_efficiency", "DM eff"),
    ("lhc_efficiency", "LHC eff"),
    ("perfect_efficiency", "perfect eff"),
    ("dm_fake_rate", "DM fake"),
    ("dm_duplicate_rate", "DM dup"),
    ("trackml_score", "TrackML score"),
)


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


def _training(result: FamilyResult) -> str:
    if result.family in BASELINES:
        return "none (not trained)"
    if result.steps and all(r.trained_elsewhere for r in result.steps.values()):
        return "none here (models of --models-from)"
    reused = result.reused_steps
    if len(reused) == len(result.steps):
        return "reused (trained before)"
    return _seconds(result.train_seconds) + (f" (+ {', '.join(reused)} reused)" if reused else "")


def write_report(
    results: Mapping[str, FamilyResult],
    out: str | Path,
    *,
    poi: ParticlesOfInterest,
    data: str,
    quick: bool,
    n_displays: int = 1,
    models_from: str | Path | None = None,
) -> Path:
    """Evaluate every family's test split and write the report folder; returns ``report.md``.

    Raises:
        ValueError: a family's stage has no test events with track candidates.
    """
    from trackcore.build.candidates import TrackCandidates
    from trackcore.machine import machine_info
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

    header = ["family", *(label for _, label in COLUMNS), "parameters", "training", "inference per event"]
    lines = [
        f"# Tracker comparison: {data}{' (quick mode)' if quick else ''}",
        "",
        f"Test events: {next(iter(reports.values())).n_events}; particles of interest: pT > {poi.min_pt:g} GeV, "
        f">= {poi.min_hits} hits. Machine: {_machine(machine_info())}.",
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
            *(_cell(s, key) for key, _ in COLUMNS),
            f"{result.n_parameters:,}",
            _training(result),
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
        "Inference per event: `trackcore predict` wall time of each step divided by the events it wrote "
        '(model, track building and file I/O; "reused" where an existing stage was read). acts-ckf: ACTS\'s own '
        "timing of space points, seeding, CKF and ambiguity resolution per event (1 thread), from the simulation run.",
        "",
    ]

    plots = plot_tracking_rates({f: r.tracking for f, r in reports.items()}, out, min_pt=poi.min_pt)
    for family, result in results.items():
        for path in stage_event_files(result.stage_dir, "test")[:n_displays]:
            event = load_stage_event(path)
            candidates = TrackCandidates(hit_id=event.track_hit_id.numpy(), track_id=event.track_id.numpy())
            plots.append(
                plot_event_display(
                    event.pos,
                    out / "displays" / f"{family}_{path.stem}.png",
                    candidates=candidates,
                    hit_id=event.hit_id,
                    particle_id=event.particle_id,
                    title=f"{family}: {path.stem}",
                    max_hits=5000,
                )
            )
    lines += [f"![{p.stem}]({p.relative_to(out)})" for p in plots]
    configs = out / "configs"
    for family, result in results.items():
        for step, record in result.steps.items():
            configs.mkdir(exist_ok=True)
            shutil.copyfile(record.config, configs / f"{family}_{step}.yaml")
    lines += ["", "Resolved configs: `configs/<family>_<step>.yaml`."]
    (out / "metrics.json").write_text(
        json.dumps({"data": data, "quick": quick, "models_from": None if models_from is None else str(models_from),
                    "families": table, "machine": machine_info()}, indent=2, default=str)
        + "\n"
    )
    report_md = out / "report.md"
    report_md.write_text("\n".join(lines) + "\n")
    return report_md
