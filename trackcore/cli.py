"""The ``trackcore`` command line: data, evaluation, scans, sweeps, comparisons and LightningCLI training.

Commands: ``simulate | inspect | prepare | evaluate | scan | sweep | dashboard | compare | bench | quality | fit |
validate | test | predict``.

Imports are deferred to the chosen subcommand: torch and friends cost seconds to import
and ``trackcore inspect`` needs none of them.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from trackcore.allocator import keep_freed_memory


def _volumes(text: str) -> tuple[int, ...]:
    presets = {"pixel": (7, 8, 9), "all": (7, 8, 9, 12, 13, 14, 16, 17, 18)}
    if text in presets:
        return presets[text]
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"volumes must be 'pixel', 'all' or ids like 7,8,9 (got {text!r})") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trackcore", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in TRAIN_COMMANDS:  # listed for --help; parsed by LightningCLI (see main)
        sub.add_parser(name, help=f"{name} a model from a YAML config (LightningCLI; `trackcore {name} --help`)")

    p = sub.add_parser("simulate", help="simulate events (built-in detector, or Pythia 8 + ACTS) as TrackML CSV")
    p.add_argument("--preset", default=None,
                   help="builtin: tiny, small or trackml (default: small); acts: acts-ttbar-mu20 or acts-ttbar-mu200")
    p.add_argument("--events", type=int, default=None, help="number of events (default: the preset's train+val+test)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--first-event-id", type=int, default=1000)
    p.add_argument("--detectors", default=None, help="a TrackML detectors.csv: take module ids from it")
    p.add_argument("--engine", default="builtin", choices=["builtin", "acts"],
                   help="builtin (fast, vectorised) or acts (Pythia 8 ttbar + pile-up, Fatras, Generic detector; "
                   "also runs the ACTS CKF on the same measurements: needs the 'acts' extra)")
    p.add_argument("--mu", type=float, default=None, help="acts: mean pile-up (default: the preset's, else 200)")
    p.add_argument("--digitization", choices=["smearing", "geometric"], default="smearing",
                   help="acts: Gaussian smearing of each simulated hit, or geometric: cells crossed, clustered "
                   "(nearby particles merge into one measurement)")

    p = sub.add_parser("inspect", help="summarise an event or a folder of events")
    p.add_argument("path", help="event prefix, one of its files, or a folder of events")
    p.add_argument("--json", action="store_true", help="print the summaries as JSON")

    p = sub.add_parser("prepare", help="process events into torch_geometric Data files (cached)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", help="folder of TrackML CSV events")
    src.add_argument("--preset", help="simulated preset (simulated first if needed)")
    p.add_argument("--out", required=True, help="root folder of processed datasets")
    p.add_argument("--seed", type=int, default=0, help="simulation seed for --preset")
    p.add_argument("--benchmark", choices=["pt1_pixel", "pt1_all"], default=None,
                   help="pt1_pixel: labelled pixel hits of particles with pT > 1 GeV; pt1_all: on every volume")
    p.add_argument("--volumes", type=_volumes, default=None, help="'pixel', 'all' or ids like 7,8,9")
    p.add_argument("--min-pt", type=float, default=None, help="keep hits of particles with pT >= this (GeV)")
    p.add_argument("--remove-noise", action="store_true")
    p.add_argument("--labelled-only", action="store_true")
    p.add_argument("--workers", type=int, default=2)

    p = sub.add_parser("evaluate", help="metrics report (JSON + plots) of a stage's predicted outputs")
    p.add_argument("stage_dir", help="a stage folder written by `trackcore predict ... --predict_dir`")
    p.add_argument("--split", default="test", help="which split to evaluate (default: test)")
    p.add_argument("--out", default=None, help="output folder (default: STAGE_DIR/eval/SPLIT)")
    p.add_argument("--min-pt", type=float, default=1.0, help="particles of interest: pT > this (GeV)")
    p.add_argument("--min-hits", type=int, default=3, help="particles of interest: at least this many hits")
    p.add_argument("--max-abs-eta", type=float, default=None, help="particles of interest: |eta| below this")
    p.add_argument("--edge-cut", type=float, default=None,
                   help="score cut of a scored graph's edge metrics (default: the stage's own, from its stage.json; "
                        "0.5 for a folder without one)")
    p.add_argument("--name", default=None, help="legend label of the plots (default: the stage folder's name)")
    from trackcore.commands.scan import add_arguments as add_scan_arguments

    p = sub.add_parser("scan", help="choose DBSCAN / condensation-point parameters on a stage's outputs")
    add_scan_arguments(p)
    from trackcore.commands.sweep import add_arguments as add_sweep_arguments
    from trackcore.commands.sweep import add_dashboard_arguments

    p = sub.add_parser("sweep", help="run a W&B sweep file offline (Optuna; grid, random, bayes; hyperband)")
    add_sweep_arguments(p)
    p = sub.add_parser("dashboard", help="static HTML dashboard of the sweeps under a runs folder")
    add_dashboard_arguments(p)
    from trackcore.commands.bench import add_arguments as add_bench_arguments

    p = sub.add_parser("bench", help="per-stage inference time and peak memory of every family")
    add_bench_arguments(p)
    from trackcore.commands.compare import add_arguments as add_compare_arguments

    p = sub.add_parser("compare", help="train or reuse EC, OC, EggNet and HGNN on the same events; one report")
    add_compare_arguments(p)
    from trackcore.commands.quality import add_arguments as add_quality_arguments

    p = sub.add_parser("quality", help="fit the learned quality cut's fake classifier; scan its threshold")
    add_quality_arguments(p)
    return parser


TRAIN_COMMANDS = ("fit", "validate", "test", "predict")


def main(argv: Sequence[str] | None = None) -> int:
    from_sys = argv is None
    argv = list(sys.argv[1:] if from_sys else argv)
    keep_freed_memory()  # large tensors are reused instead of page-faulted in anew (trackcore.allocator)
    if argv and argv[0] in TRAIN_COMMANDS:
        # Training commands are LightningCLI's own parser (YAML configs, class_path/init_args, --help);
        # it reads sys.argv itself when we were called from the shell.
        from trackcore.train.cli import main as train_main

        train_main(None if from_sys else argv)
        return 0
    passthrough: list[str] = []
    if argv and argv[0] in ("sweep", "compare") and "--" in argv:  # `trackcore sweep FILE -- <fit arguments>`
        at = argv.index("--")
        argv, passthrough = argv[:at], argv[at + 1:]
    args = build_parser().parse_args(argv)
    args.train_args = passthrough
    try:
        _check_paths(args)
        if args.command == "simulate":
            from trackcore.commands import simulate as command
        elif args.command == "inspect":
            from trackcore.commands import inspect as command
        elif args.command == "evaluate":
            from trackcore.commands import evaluate as command
        elif args.command == "scan":
            from trackcore.commands import scan as command
        elif args.command == "sweep":
            from trackcore.commands import sweep as command
        elif args.command == "bench":
            from trackcore.commands import bench as command
        elif args.command == "compare":
            from trackcore.commands import compare as command
        elif args.command == "quality":
            from trackcore.commands import quality as command
        elif args.command == "dashboard":
            from trackcore.commands.sweep import run_dashboard

            return run_dashboard(args)
        else:
            from trackcore.commands import prepare as command
        code = command.run(args)
        sys.stdout.flush()  # so that a closed pipe (`trackcore inspect ... | head`) is reported here
        return code
    except BrokenPipeError:
        _silence_stdout()
        return 1
    except (ValueError, OSError) as err:  # DataError, bad options, missing files, unwritable outputs
        print(f"error: {error_message(err)}", file=sys.stderr)
        return 2


# Options naming a folder the command writes into (created if needed); the dashboard's --out
# is an HTML file, so only its parents must be folders. Then the options naming a folder it reads.
_OUTPUT_OPTIONS = ("out", "data_root", "work_dir")
_FILE_OUTPUTS = {("dashboard", "out")}
_INPUT_FOLDERS = {"input": "--input", "stage_dir": "STAGE_DIR", "runs_dir": "RUNS_DIR"}


def _check_paths(args: argparse.Namespace) -> None:
    """Refuse, before any work, an output path that an existing file makes impossible (``--out README.md/x``)
    and a file given where a folder is read."""
    for name in _OUTPUT_OPTIONS:
        value = getattr(args, name, None)
        if value is None:
            continue
        blocker = blocking_file(Path(value), may_be_file=(args.command, name) in _FILE_OUTPUTS)
        if blocker is not None:
            raise ValueError(f"--{name.replace('_', '-')} {value}: {blocker} is a file, not a folder")
    for name, label in _INPUT_FOLDERS.items():
        value = getattr(args, name, None)
        if value is not None and Path(value).exists() and not Path(value).is_dir():
            raise ValueError(f"{value}: is a file; {label} takes a folder")


def blocking_file(path: Path, *, may_be_file: bool = False) -> Path | None:
    """The existing file that keeps ``path`` from being a folder (itself or an ancestor), or None."""
    for candidate in (path.parents if may_be_file else (path, *path.parents)):
        if candidate.is_dir():
            return None
        if candidate.exists():
            return candidate
    return None


def error_message(err: BaseException) -> str:
    """One line naming the file and the problem, for the errors a user can fix."""
    if not isinstance(err, OSError) or err.filename is None:
        return str(err)  # DataError and our own messages already read "<path>: <problem>"
    path = str(err.filename) + (f" -> {err.filename2}" if err.filename2 is not None else "")
    if err.errno in (errno.ENOTDIR, errno.EEXIST):
        blocker = blocking_file(Path(err.filename))
        if blocker is not None:
            return f"{path}: cannot be created: {blocker} is a file, not a folder"
    if err.errno == errno.ENOSPC:
        return f"{path}: no space left on device"
    return f"{path}: {err.strerror or err}"


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at devnull, so that flushing it at exit fails no more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (e.g. captured in tests)
        pass


if __name__ == "__main__":
    sys.exit(main())
