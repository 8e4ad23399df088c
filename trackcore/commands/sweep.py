"""``trackcore sweep FILE``: run a W&B sweep file offline (Optuna); ``trackcore dashboard RUNS_DIR``."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a W&B sweep YAML (experiments/sweeps/*.yaml)")
    p.add_argument(
        "--trials", type=int, default=None, help="trials to run now (default: the grid size, else run_cap, else 10)"
    )
    p.add_argument("--out", default=None, help="study folder (default: runs/sweeps/<name>)")
    p.add_argument("--seed", type=int, default=0, help="sampler seed")
    p.add_argument("--dashboard", action="store_true", help="write the study folder's dashboard.html afterwards")
    p.epilog = "Arguments after -- go to every trial's `trackcore fit` (e.g. -- --trainer.max_epochs=3)."


def run(args: argparse.Namespace) -> int:
    from trackcore.sweep import build_dashboard, load_sweep, run_sweep

    spec = load_sweep(args.file)
    extra = list(getattr(args, "train_args", []))
    result = run_sweep(spec, n_trials=args.trials, out_dir=args.out, extra_args=extra, seed=args.seed)
    states = result.trials["state"].value_counts().to_dict()
    print(
        f"{spec.name}: {len(result.trials)} trials {states}; best {spec.metric} = {result.best_value:.4f} "
        f"with {result.best_params}"
    )
    print(f"wrote {result.out_dir / 'trials.csv'}")
    if args.dashboard:
        print(f"wrote {build_dashboard(result.out_dir)}")
    return 0


def add_dashboard_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs_dir", help="a folder holding sweeps (their trials.csv), e.g. runs/sweeps")
    p.add_argument("--out", default=None, help="the HTML file (default: RUNS_DIR/dashboard.html)")
    p.add_argument("--top", type=int, default=10, help="rows of the best-trials tables")


def run_dashboard(args: argparse.Namespace) -> int:
    from trackcore.sweep import build_dashboard

    print(f"wrote {build_dashboard(args.runs_dir, args.out, top=args.top)}")
    return 0
