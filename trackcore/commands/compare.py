"""``trackcore compare``: train (or reuse) every family on the same events and write the comparison report."""

from __future__ import annotations

import argparse
import time

NAMED_SOURCES = ("tiny", "small", "trackml", "real")
"""The ``--data`` sources named by a word (simulated presets and the real events), not by a folder."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        default="small",
        help="tiny | small | trackml (simulated presets) | real (the real events of ../shared/data: pT > 1 GeV "
        "pixel hits, or every pixel hit with --benchmark full_pixel) | "
        "acts-ttbar-mu20 | acts-ttbar-mu200 (Pythia 8 + ACTS, simulated into data/ on first use; adds the ACTS CKF) | "
        "a folder of TrackML CSV events (default: small)",
    )
    p.add_argument(
        "--families",
        default=None,
        help="comma-separated: ec, oc, eggnet, hgnn, acts-ckf, geometric (default: the four GNNs, acts-ckf on "
        "ACTS data; geometric, the model-free helix search, is a row of every full-event comparison)",
    )
    p.add_argument(
        "--benchmark",
        choices=["pt1_pixel", "pt1_all", "full_pixel", "full"],
        default=None,
        help="hit selection of every family (default: the configs', pt1_pixel); pt1_all: pT > 1 GeV on the full "
        "detector (simulated data); full_pixel / full: every pixel hit / every hit, nothing removed with the truth",
    )
    p.add_argument("--quick", action="store_true",
                   help="3 epochs of at most 15 training events per stage (a simulated preset: 15/5/10 events)")
    p.add_argument("--data-root", default=None, help="cache of processed raw events (default: the configs' data_cache)")
    p.add_argument("--work-dir", default=None, help="runs and stages of the comparison (default: OUT/work)")
    p.add_argument("--out", default=None, help="report folder (default: reports/compare_<data>)")
    p.add_argument("--retrain", action="store_true", help="train again even where a stage folder exists")
    p.add_argument(
        "--models-from",
        default=None,
        help="work dir of an earlier comparison: predict with its best checkpoints instead of training "
        "(e.g. models trained on acts-ttbar-mu20 tested on acts-ttbar-mu200)",
    )
    p.add_argument(
        "--refine",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a helix-refinement setting for every family's tracks (trackcore.refinement.refine.HelixRefinement), "
        "over its config's; repeat, e.g. --refine max_holes=2 --refine hole_volumes=[7,8,9,12,13,14,16,17,18] "
        "(holes on every layer: the full detector)",
    )
    p.add_argument(
        "--follow-strips",
        default=None,
        metavar="PIXEL_WORK_DIR",
        help="with --benchmark pt1_all or full: also each family's pixel tracks from the work dir of a pixel "
        "comparison of the same data (pt1_pixel or full_pixel), followed into the strips "
        "(trackcore.refinement.follow), as rows <family>+follow",
    )
    p.add_argument(
        "--follow",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --follow-strips: a strip-following setting (trackcore.refinement.follow.StripFollowing, e.g. "
        "max_holes=1); repeat",
    )
    p.add_argument(
        "--test-data",
        default=None,
        help="test the models trained on --data on another source's test events (e.g. --data small "
        "--test-data real, or acts-ttbar-mu20 -> acts-ttbar-mu200), with the same hit selection; the report is "
        "of that source",
    )
    p.add_argument("--min-pt", type=float, default=1.0, help="particles of interest: pT > this (GeV)")
    p.add_argument("--min-hits", type=int, default=3, help="particles of interest: at least this many hits")
    p.epilog = "Arguments after -- go to every `trackcore fit` (e.g. -- --trainer.max_epochs=2)."


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from trackcore.compare import plan_comparison, run_family, write_report
    from trackcore.compare.pipeline import BASELINES, FAMILIES, data_folder
    from trackcore.data.processing import FULL_EVENT_BENCHMARKS
    from trackcore.metrics import ParticlesOfInterest
    from trackcore.train.loggers import teardown_wandb

    label = _label(args.data) + (f"_to_{_label(args.test_data)}" if args.test_data else "")
    label += f"_{args.benchmark}" if args.benchmark else ""
    out = Path(args.out) if args.out else Path("reports") / f"compare_{label}{'_quick' if args.quick else ''}"
    work = Path(args.work_dir) if args.work_dir else out / "work"
    tested = args.test_data or args.data
    for source in dict.fromkeys((args.data, tested)):
        _simulate_acts_once(source)
    has_ckf = tested not in NAMED_SOURCES and (data_folder(tested) / "acts-ckf").is_dir()
    default = ",".join(FAMILIES + (("acts-ckf",) if has_ckf else ()))
    families = [f.strip() for f in (args.families or default).split(",") if f.strip()]
    if args.benchmark in FULL_EVENT_BENCHMARKS and "geometric" not in families:
        families.append("geometric")  # a row of every full-event comparison
    options = dict(
        quick=args.quick,
        train_args=getattr(args, "train_args", []),
        data_root=args.data_root,
        benchmark=args.benchmark,
        refine=args.refine,
    )
    trained = [f for f in families if f not in BASELINES]
    models_from, test_work = args.models_from, work
    if args.test_data:
        test_work = work / f"test_{_label(tested)}"
        # a bad test source fails here, before any training
        plan_comparison(families, data=tested, work_dir=test_work.resolve(), configs_from=args.data, **options)
    if args.test_data and models_from is None and trained:
        # train on --data (no baseline there: it is judged on the tested source), then test below
        train_plan = plan_comparison(trained, data=args.data, work_dir=work.resolve(), **options)
        done: dict = {}
        for family in trained:
            print(f"== {family} on {args.data}: {' -> '.join(s.name for s in train_plan.steps[family])}", flush=True)
            done[family] = run_family(family, train_plan, done, retrain=args.retrain)
        models_from = work
    plan = plan_comparison(families, data=tested, work_dir=test_work.resolve(), models_from=models_from,
                           configs_from=args.data if args.test_data else None, **options)
    followed: list[str] = []
    if args.follow and args.follow_strips is None:
        raise ValueError("--follow sets the strip following of --follow-strips, which is not given")
    if args.follow_strips is not None:  # checked before any training
        from trackcore.refinement.follow import StripFollowing

        follower = StripFollowing.from_settings(args.follow)
        if args.benchmark not in ("pt1_all", "full"):
            raise ValueError("--follow-strips follows pixel tracks into the strips: "
                             "it needs --benchmark pt1_all or full")
        followed = [f for f in FAMILIES if (Path(args.follow_strips) / "stages" / f / "test").is_dir()]
        if not followed:
            raise FileNotFoundError(f"{args.follow_strips}: no family's pixel stage (stages/<family>/test) to follow")
    start = time.perf_counter()
    results = {}
    for family in families:
        print(f"== {family}: {' -> '.join(step.name for step in plan.steps[family])}", flush=True)
        results[family] = run_family(family, plan, results, retrain=args.retrain)
    if followed:
        from trackcore.compare.follow import follow_family

        full_stage = next(iter(results.values())).stage_dir
        for family in followed:
            print(f"== {family}+follow: {family}'s pixel tracks of {args.follow_strips} followed into the strips")
            results[f"{family}+follow"] = follow_family(family, args.follow_strips, full_stage, plan, follower)
    teardown_wandb()
    report = write_report(
        results,
        out,
        poi=ParticlesOfInterest(min_pt=args.min_pt, min_hits=args.min_hits),
        data=tested,
        quick=args.quick,
        models_from=plan.models_from,
    )
    print(report.read_text())
    print(f"wrote {report} ({time.perf_counter() - start:.0f} s)")
    return 0


def _label(data: str) -> str:
    """A data source's name in report folder names."""
    from pathlib import Path

    return data if data in NAMED_SOURCES else Path(data).name


def _simulate_acts_once(data: str) -> None:
    """Simulate an ACTS preset's events into its data folder on first use."""
    from trackcore.compare.pipeline import data_folder
    from trackcore.data.acts_sim import ACTS_PRESETS, simulate_acts

    if data in ACTS_PRESETS and not data_folder(data).is_dir():
        preset = ACTS_PRESETS[data]
        print(f"== simulating {preset.n_events} {preset.name} events with ACTS into {data_folder(data)}")
        simulate_acts(data_folder(data), n_events=preset.n_events, settings=preset.settings)
