"""The stages each family trains and predicts, run through the same CLI a user would type.

Every family reads the same events (one data option for all) and ends with a stage folder whose
test events carry track candidates; ``ec``'s graph stage is shared by EC, OC and HGNN, and its
edge-scoring stage by OC (the EC-filtered graph):

- ``ec``: metric learning (graph) -> interaction-network edge classifier (tracks);
- ``oc``: object condensation on ec's scored graph;
- ``eggnet``: EggNet on the point cloud;
- ``hgnn``: the hierarchical GNN on ec's graph;
- ``acts-ckf`` (ACTS-simulated data only): the ACTS seeding + CKF tracks written by
  ``trackcore simulate --engine acts`` on the same measurements, nothing trained
  (:mod:`trackcore.compare.acts_ckf`);
- ``geometric``: the model-free helix search on the same test events (:mod:`trackcore.compare.geometric`),
  a row of every full-event comparison (``--benchmark full_pixel`` or ``full``).

``--data`` takes a simulated preset (``tiny``, ``small``, ``trackml``), ``real``, an ACTS preset
(``acts-ttbar-mu20``, ``acts-ttbar-mu200``: simulated with ACTS into ``data/<preset>`` on first
use) or a folder of TrackML CSV events (split 80/10/10 by event id).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from trackcore.compare.quick import QUICK_TRAIN_EVENTS, quick_preset_sizes
from trackcore.compare.records import (
    ComparisonPlan,
    FamilyResult,
    StageStep,
    StepRecord,
    refinement_arguments,
    refinement_settings,
)
from trackcore.family import Family, Step, load_families
from trackcore.graph import GRAPH_STEP

FAMILIES = tuple(load_families())
"""The installed families (entry points, :mod:`trackcore.family`), in their comparison order."""
BASELINES = ("acts-ckf", "geometric")
"""Non-GNN trackers a comparison can include (no training; see :mod:`trackcore.compare.acts_ckf`)."""
ACTS_DATA_ROOT = Path("data")
REAL_DATA = Path("../shared/data/trackml_real_partial")
"""The real events of ``--data real`` (as the ``real_pt1`` configs name them, relative to the repository)."""
REAL_SPLITS = (30, 5, 5)


def all_steps(families: dict[str, Family] | None = None) -> dict[str, Step]:
    """Every step a family's chain may name: the core's graph construction (``ml``) and each of
    ``families``' own steps (default: the installed families)."""
    steps = {GRAPH_STEP.name: GRAPH_STEP}
    for family in (load_families() if families is None else families).values():
        steps.update({step.name: step for step in family.steps})
    return steps


def step_configs(kind: str = "small") -> dict[str, Path]:
    """The shipped config of every step (``ml``, ``ec``, ``oc``, ``eggnet``, ``hgnn``) for one data kind
    (:data:`trackcore.family.DATA_KINDS`): ``small`` (the simulated preset, pT > 1 GeV pixel hits),
    ``real_pt1`` (the real pT > 1 GeV pixel events), ``acts`` (the ACTS ttbar presets), ``full_pixel``
    (full events: nothing removed with the truth, whatever the data) or ``full_trackml`` (the models
    trained at TrackML density); ``acts`` and ``full_trackml`` fall back to a step's ``small`` and
    ``full_pixel`` config where it has none (:data:`trackcore.family.FALLBACK_KINDS`).

    Raises:
        ValueError: an unknown kind.
    """
    return {name: step.config_path(kind) for name, step in all_steps().items()}


def family_steps(family: Family, configs: dict[str, Path], steps: dict[str, Step]) -> tuple[StageStep, ...]:
    """The :class:`StageStep` of each step of ``family``'s chain, with the configs ``configs``, its
    steps looked up in ``steps`` (:func:`all_steps`).

    Raises:
        ValueError: the chain names a step no installed family (nor the core) defines.
    """
    missing = [name for name in family.chain if name not in steps]
    if missing:
        raise ValueError(f"family {family.name!r}: its chain names steps {missing} that no installed family defines")
    return tuple(StageStep(name, configs[name], steps[name].input_step) for name in family.chain)


def plan_comparison(
    families: Sequence[str],
    *,
    data: str,
    work_dir: str | Path,
    quick: bool = False,
    train_args: Sequence[str] = (),
    data_root: str | Path | None = None,
    benchmark: str | None = None,
    models_from: str | Path | None = None,
    refine: Sequence[str] = (),
    configs_from: str | None = None,
) -> ComparisonPlan:
    """The steps of ``families`` on ``data``: ``tiny``/``small`` (simulated presets), ``real``
    (the pT > 1 GeV pixel events of ../shared/data) or a folder of TrackML CSV events.

    ``quick`` trains each stage for 3 epochs on at most 30 training events per epoch.
    ``train_args`` go to every ``fit`` (and those setting ``--model.*`` to every ``predict`` too, so
    that the predicted model is the trained one); ``data_root`` (the processed-event cache) and ``benchmark``
    (the hit selection, e.g. ``pt1_all``; default the configs' ``pt1_pixel``) to the steps that
    read raw events. ``models_from``: the work dir of an earlier comparison; every step then predicts
    with that run's best checkpoint instead of training (e.g. models trained at mu = 20, tested at
    mu = 200). ``refine``: ``KEY=VALUE`` settings of the helix refinement given to every family's
    step (the same for all, e.g. the full detector's hole cut). A full-event ``benchmark``
    (``full_pixel``, ``full``) takes every step's ``full_pixel`` config. ``configs_from``: the data
    whose configs the steps take (default ``data``): with ``models_from``, the data the models were
    trained on, so that each step predicts ``data`` (e.g. the real events) with the configs it was
    trained with (e.g. the ``small`` preset's).

    Raises:
        ValueError: an unknown family, a data folder that does not exist, or a ``refine`` setting
            that is not ``KEY=VALUE`` with a HelixRefinement field as KEY.
        FileNotFoundError: ``models_from`` lacks a run (with a checkpoint) of a step the families need.
    """
    unknown = [f for f in families if f not in FAMILIES + BASELINES]
    if unknown or not families:
        raise ValueError(f"unknown families {unknown} (choose from {FAMILIES + BASELINES})")
    from trackcore.data.acts_sim.presets import ACTS_PRESETS
    from trackcore.data.processing import FULL_EVENT_BENCHMARKS

    source = configs_from or data
    real_configs = source == "real" and benchmark not in FULL_EVENT_BENCHMARKS
    if benchmark in FULL_EVENT_BENCHMARKS:
        kind = "full_pixel"
    elif real_configs:
        kind = "real_pt1"
    else:
        kind = "acts" if source in ACTS_PRESETS or acts_simulated(data_folder(source)) else "small"
    configs = step_configs(kind)
    installed = load_families()
    known = all_steps(installed)
    steps = {name: family_steps(family, configs, known) for name, family in installed.items()}
    # no training: the processing of ml's config selects the hits the CKF tracks are restricted to,
    # and the hits the geometric baseline searches
    steps["acts-ckf"] = (StageStep("acts-ckf", configs["ml"]),)
    steps["geometric"] = (StageStep("geometric", configs["ml"]),)
    if (data == "real") == real_configs and data in ("real", "small"):
        data_args: list[str] = []  # the configs' own data
    elif data == "small":
        data_args = _preset_args("small")
    elif data == "real":
        data_args = [f"--data.init_args.input_dir={REAL_DATA}", "--data.init_args.preset=null",
                     *(f"--data.init_args.{k}={n}" for k, n in zip(("n_train", "n_val", "n_test"), REAL_SPLITS,
                                                                   strict=True))]
    elif data == "tiny":
        data_args = [*_preset_args("tiny"), "--data.init_args.benchmark=null"]
    elif data == "trackml":  # TrackML density
        data_args = _preset_args("trackml")
    else:
        folder = data_folder(data)
        if not folder.is_dir():
            raise ValueError(
                f"--data {data!r}: not 'tiny', 'small', 'trackml', 'real', an ACTS preset or a folder of TrackML CSV "
                "events"
            )
        n_train, n_val, n_test = folder_splits(folder)
        data_args = [
            f"--data.init_args.input_dir={folder}",
            "--data.init_args.preset=null",
            f"--data.init_args.n_train={n_train}",
            f"--data.init_args.n_val={n_val}",
            f"--data.init_args.n_test={n_test}",
        ]
    if "acts-ckf" in families and not (data_folder(data) / "acts-ckf").is_dir():
        raise ValueError(f"--families acts-ckf needs ACTS-simulated data with the CKF's tracks (got --data {data!r})")
    if data_root is not None:
        data_args.append(f"--data.init_args.data_root={data_root}")
    if benchmark is not None:
        from trackcore.data.processing import get_benchmark

        get_benchmark(benchmark)  # an unknown name fails here, before any training
        data_args.append(f"--data.init_args.benchmark={benchmark}")
    if models_from is not None:
        data_args.append("--data.init_args.test_only=true")  # models trained elsewhere: only the test events
        models_from = Path(models_from).resolve()
        for family in families:
            for step in steps[family] if family not in BASELINES else ():
                _best_checkpoint(models_from / "runs" / step.name)  # a missing model fails before any work
    refinement_arguments(refine)  # a bad setting fails here, before any work
    extra = ["--trainer.enable_model_summary=false"]
    if quick:
        extra += ["--trainer.max_epochs=3", f"--trainer.limit_train_batches={QUICK_TRAIN_EVENTS}"]
        data_args += quick_preset_sizes(data)
    return ComparisonPlan(
        steps={f: steps[f] for f in families},
        work_dir=Path(work_dir),
        data_args=tuple(data_args),
        train_args=(*extra, *train_args),
        quick=quick,
        data=data,
        models_from=models_from,
        refine=tuple(refine),
    )


def _preset_args(preset: str) -> list[str]:
    """The raw-event steps' data arguments of a simulated preset with its own splits."""
    return [f"--data.init_args.preset={preset}", "--data.init_args.input_dir=null",
            *(f"--data.init_args.{k}=null" for k in ("n_train", "n_val", "n_test"))]


def data_folder(data: str) -> Path:
    """The folder of ``--data``: ``data/<preset>`` for an ACTS preset, else the path itself."""
    from trackcore.data.acts_sim.presets import ACTS_PRESETS

    return ACTS_DATA_ROOT / data if data in ACTS_PRESETS else Path(data)


def acts_simulated(folder: Path) -> bool:
    """Whether ``folder`` was written by ``trackcore simulate --engine acts`` (its ``simulation.json``
    names the engine): its events take the ``acts*`` configs as the ACTS presets do."""
    import json

    record = folder / "simulation.json"
    if not record.is_file():
        return False
    try:
        return json.loads(record.read_text()).get("engine") == "acts"
    except (json.JSONDecodeError, AttributeError):
        raise ValueError(f"{record}: not a JSON object as `trackcore simulate` writes") from None


def folder_splits(folder: Path) -> tuple[int, int, int]:
    """(train, val, test) event counts of a folder of events: 80/10/10 by event id, at least one
    validation and one test event.

    Raises:
        ValueError: fewer than 3 events.
    """
    from trackcore.data.trackml_io import list_events

    n = len(list_events(folder))
    if n < 3:
        raise ValueError(f"{folder}: {n} events; a comparison needs at least 3 (train, val, test)")
    n_val = n_test = max(1, round(0.1 * n))
    return n - n_val - n_test, n_val, n_test


def _best_checkpoint(run_dir: Path) -> Path:
    """The best-validation checkpoint of a run (``last.ckpt`` when no best one was kept)."""
    ckpts = sorted(run_dir.glob("version_*/checkpoints/*.ckpt"), key=lambda p: p.stat().st_mtime)
    best = [p for p in ckpts if p.name != "last.ckpt"]
    if not ckpts:
        raise FileNotFoundError(f"{run_dir}: no run with a checkpoint here")
    return best[-1] if best else ckpts[-1]


def run_family(
    family: str, plan: ComparisonPlan, done: dict[str, FamilyResult], *, retrain: bool = False
) -> FamilyResult:
    """Fit and predict the steps of ``family`` that ``done`` (earlier families) has not run yet.

    Each step is ``trackcore fit`` then ``trackcore predict`` (best-validation checkpoint) through
    the same CLI as by hand; a step whose stage folder exists is reused unless ``retrain``.
    """
    from trackcore.train.cli import main as train_main
    from trackcore.train.loggers import finish_wandb_run
    from trackcore.train.quiet import quiet_stage_runs

    result = FamilyResult(family=family, stage_dir=plan.stage_dir(plan.steps[family][-1].name))
    if family in BASELINES:
        from trackcore.compare.baselines import run_ckf, run_geometric

        step = plan.steps[family][0]
        result.steps[family] = (run_geometric(plan, step, refinement_settings(plan.refine)) if family == "geometric"
                                else run_ckf(plan, step, data_folder(plan.data)))
        return result
    shared = {name: record for r in done.values() for name, record in r.steps.items()}
    read_by_others = {s.input_stage for steps in plan.steps.values() for s in steps}  # stages a later step reads
    for step in plan.steps[family]:
        if step.name in shared and not retrain:  # ec's graph stage, reused by oc and hgnn
            result.steps[step.name] = shared[step.name]
            continue
        run_dir = plan.work_dir / "runs" / step.name
        data = (
            [f"--data.init_args.input_dir={plan.stage_dir(step.input_stage)}"]
            if step.input_stage
            else list(plan.data_args)
        )
        common = ["--config", str(step.config), *data, *(plan.refine_args if step.name in FAMILIES else ())]
        stage = plan.stage_dir(step.name)
        train_seconds = predict_seconds = float("nan")
        source_run = run_dir if plan.models_from is None else plan.models_from / "runs" / step.name
        if retrain or not stage.is_dir():
            if plan.models_from is None:
                start = time.perf_counter()
                quick = list(step.quick_args) if plan.quick else []
                print(f"== {family}: training {step.name} ({step.config.name})", flush=True)
                try:
                    with quiet_stage_runs():
                        train_main(["fit", *common, *plan.train_args, *quick, f"--run_name={run_dir}"])
                finally:
                    finish_wandb_run()  # one W&B run per stage
                train_seconds = time.perf_counter() - start
            start = time.perf_counter()
            # the model settings among the fit arguments (e.g. a smaller network) build the model the checkpoint holds
            model_args = [a for a in plan.train_args if a.startswith("--model.")]
            best = _best_checkpoint(source_run)
            # quick mode: a stage no other step reads writes only what the report scores (val, test)
            splits = ["--predict_splits=[val,test]"] if plan.quick and step.name not in read_by_others else []
            print(f"== {family}: predicting {step.name} on {'the val and test' if splits else 'every'} event"
                  f"{'s' if splits else ''} (best checkpoint {best.name})", flush=True)
            with quiet_stage_runs():
                train_main(
                    [
                        "predict",
                        *common,
                        *model_args,
                        *splits,
                        f"--run_name={run_dir}-predict",
                        f"--ckpt_path={best}",
                        f"--predict_dir={stage}",
                    ]
                )
            finish_wandb_run()
            predict_seconds = time.perf_counter() - start
            _write_timing(stage, train_seconds, predict_seconds)
            print(f"== {family}: {step.name} done: training {_seconds(train_seconds)}, predicting "
                  f"{_seconds(predict_seconds)}", flush=True)
        else:  # reused: the prediction time measured when the stage was written, if it was recorded
            predict_seconds = _read_timing(stage).get("predict_seconds", predict_seconds)
        configs = sorted(source_run.glob("version_*/config.yaml"), key=lambda p: p.stat().st_mtime)
        result.steps[step.name] = StepRecord(
            train_seconds=train_seconds,
            predict_seconds=predict_seconds,
            n_events=sum(1 for _ in stage.glob("*/event*.pt")),
            checkpoint=_best_checkpoint(source_run),
            config=configs[-1] if configs else step.config,
            trained_elsewhere=plan.models_from is not None,
        )
    result.n_parameters = count_parameters(r.checkpoint for r in result.steps.values())
    return result


TIMING_FILE = "timing.json"
"""Written into each stage folder a comparison predicts: its training and prediction wall times."""


def _write_timing(stage: Path, train_seconds: float, predict_seconds: float) -> None:
    import json

    from trackcore.data.atomic import atomic_write_text

    record = {"train_seconds": train_seconds if math.isfinite(train_seconds) else None,
              "predict_seconds": predict_seconds}
    atomic_write_text(stage / TIMING_FILE, json.dumps(record) + "\n")


def _read_timing(stage: Path) -> dict[str, float]:
    """The recorded wall times of a stage folder (empty when none or unreadable: then they are unknown)."""
    import json

    path = stage / TIMING_FILE
    try:
        record = json.loads(path.read_text()) if path.is_file() else {}
    except json.JSONDecodeError:
        raise ValueError(f"{path}: not the JSON a comparison writes; delete it or rerun with --retrain") from None
    return {k: float(v) for k, v in record.items() if isinstance(v, int | float)}


def _seconds(value: float) -> str:
    return "reused" if not math.isfinite(value) else f"{value:.0f} s"


def count_parameters(checkpoints: Iterable[Path | None]) -> int:
    """Trainable model parameters summed over the checkpoints (None entries skipped)."""
    import torch

    total = 0
    for checkpoint in checkpoints:
        if checkpoint is None:
            continue
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
        total += sum(
            v.numel()
            for k, v in state.items()
            if k.startswith("model.") and v.is_floating_point() and "running_" not in k
        )
    return total
