"""Run a W&B sweep file offline: Optuna drives ``trackcore fit`` trials in this process.

``grid`` maps to Optuna's GridSampler, ``random`` to RandomSampler and ``bayes`` to TPE; a
``hyperband`` ``early_terminate`` block to Optuna's HyperbandPruner, fed the metric after every
validation epoch (a pruned trial stops at the end of that epoch). Each trial is an ordinary run
(``runs/<sweep>-trialNNN``: CSV log, W&B offline run, checkpoints); the study lives in
``<out>/study.db`` (SQLite), so a stopped sweep resumes where it was, and ``<out>/trials.csv``
lists every trial's parameters, state, value (the best metric over its validation epochs), time
and run folder.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd

from trackcore.sweep.spec import Parameter, SweepSpec
from trackcore.train.loggers import finish_wandb_run, teardown_wandb


@dataclass(frozen=True)
class SweepResult:
    """What a sweep left: its folder, the trials table and the best trial."""

    out_dir: Path
    trials: pd.DataFrame
    best_params: dict[str, Any]
    best_value: float


class TrialReporter(L.Callback):
    """Reports the sweep metric to an Optuna trial after each validation epoch; stops a pruned run."""

    def __init__(self, trial: Any, metric: str) -> None:
        self.trial, self.metric = trial, metric
        self.history: list[float] = []
        self.pruned = False

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # not on_validation_epoch_end: callbacks run that hook before the module logs its metrics
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.metric)
        if value is None:
            return
        self.history.append(float(value))
        if math.isfinite(self.history[-1]):
            self.trial.report(self.history[-1], step=trainer.current_epoch)
        if self.trial.should_prune():
            self.pruned = True
            trainer.should_stop = True


def _suggest(trial: Any, p: Parameter) -> Any:
    if p.values is not None:
        return p.values[0] if p.is_constant else trial.suggest_categorical(p.name, list(p.values))
    if p.integer:
        return trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
    return trial.suggest_float(p.name, p.low, p.high, log=p.log, step=p.step)


def _sampler(spec: SweepSpec, seed: int) -> Any:
    import optuna

    if spec.method == "grid":
        ranges = [p.name for p in spec.parameters if p.values is None]
        if ranges:
            raise ValueError(f"{spec.path}: a grid sweep needs 'values' for every parameter ({ranges} are ranges)")
        return optuna.samplers.GridSampler(
            {p.name: list(p.values) for p in spec.parameters if not p.is_constant}, seed=seed
        )
    if spec.method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def run_sweep(
    spec: SweepSpec,
    *,
    n_trials: int | None = None,
    out_dir: str | Path | None = None,
    extra_args: Sequence[str] = (),
    seed: int = 0,
    runs_dir: str = "runs",
) -> SweepResult:
    """Run ``n_trials`` new trials of ``spec`` (default: the grid size, or ``run_cap``, or 10).

    Args:
        spec: a :func:`~trackcore.sweep.load_sweep` result.
        n_trials: trials to run now (a resumed study keeps its earlier ones).
        out_dir: the study folder (default ``runs/sweeps/<name>``).
        extra_args: more ``trackcore fit`` arguments for every trial (e.g. a smaller preset).
        seed: the sampler's seed.
        runs_dir: where the trials' runs go (their CSV/W&B logs and checkpoints).

    Raises:
        ImportError: Optuna is not installed.
        ValueError: a bad spec for its method, or no trial gave a value.
    """
    try:
        import optuna
    except ImportError as err:
        raise ImportError("offline sweeps need Optuna: pip install optuna") from err
    from trackcore.train.cli import main as train_main
    from trackcore.train.quiet import quiet_stage_runs

    out = Path(out_dir) if out_dir is not None else Path(runs_dir) / "sweeps" / spec.name
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(spec.path, out / "sweep.yaml")
    grid = spec.grid_size() if spec.method == "grid" else None
    if n_trials is None:
        n_trials = grid or spec.run_cap or 10
    pruner = (
        optuna.pruners.HyperbandPruner(min_resource=spec.early_terminate)
        if spec.early_terminate is not None
        else optuna.pruners.NopPruner()
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=spec.name,
        storage=f"sqlite:///{(out / 'study.db').resolve()}",
        load_if_exists=True,
        direction=spec.goal,
        sampler=_sampler(spec, seed),
        pruner=pruner,
    )
    extra = list(extra_args)

    def objective(trial: Any) -> float:
        values = {p.name: _suggest(trial, p) for p in spec.parameters}
        run_name = f"{spec.name}-trial{trial.number:03d}"
        trial.set_user_attr("run_dir", str(Path(runs_dir) / run_name))
        # run=False: LightningCLI builds the trainer, model and data without a subcommand ("fit")
        args = [*spec.train_args[1:], *(f"--{k}={v}" for k, v in values.items()), *extra, f"--run_name={run_name}"]
        with quiet_stage_runs():
            cli = train_main(args, run=False)
            reporter = TrialReporter(trial, spec.metric)
            cli.trainer.callbacks.append(reporter)
            start = time.perf_counter()
            try:
                cli.trainer.fit(cli.model, datamodule=cli.datamodule)
            finally:
                finish_wandb_run()
        trial.set_user_attr("seconds", time.perf_counter() - start)
        trial.set_user_attr("epochs", len(reporter.history))
        finite = [v for v in reporter.history if math.isfinite(v)]
        if reporter.pruned:
            raise optuna.TrialPruned()
        if not finite:
            raise ValueError(f"trial {trial.number} logged no finite {spec.metric!r}: is it a validation metric?")
        return max(finite) if spec.goal == "maximize" else min(finite)

    try:
        study.optimize(objective, n_trials=n_trials, catch=(ValueError, FloatingPointError))
    finally:
        teardown_wandb()
    table = trials_table(study, spec.metric)
    table.to_csv(out / "trials.csv", index=False)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise ValueError(f"no trial of {spec.path} completed; see {out / 'trials.csv'}")
    best = study.best_trial
    return SweepResult(out_dir=out, trials=table, best_params=dict(best.params), best_value=float(best.value))


def trials_table(study: Any, metric: str) -> pd.DataFrame:
    """One row per trial: number, state, value (of ``metric``; a pruned trial's best reported one),
    ``param:<name>`` columns, seconds, epochs, run_dir, metric and goal."""
    rows = []
    for t in study.trials:
        row: dict[str, Any] = {
            "number": t.number,
            "state": t.state.name,
            "value": float("nan") if t.value is None else float(t.value),
        }
        row.update({f"param:{k}": v for k, v in t.params.items()})
        if t.state.name == "PRUNED" and t.intermediate_values:
            row["value"] = float(
                max(t.intermediate_values.values())
                if study.direction.name == "MAXIMIZE"
                else min(t.intermediate_values.values())
            )
        row.update({k: t.user_attrs.get(k) for k in ("seconds", "epochs", "run_dir")})
        row.update(metric=metric, goal=study.direction.name.lower())
        rows.append(row)
    return pd.DataFrame(rows)
