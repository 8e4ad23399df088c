"""Training curves of every run of a comparison's work dir: validation DM efficiency, fake rate and loss per epoch.

    python scripts/training_curves.py WORK_DIR [--out DIR]

Reads ``WORK_DIR/runs/<step>/version_*/metrics.csv`` (the CSV log of every ``trackcore fit``; the
latest version of each step) and draws one panel per metric with a line per step; prints the
per-epoch table too, into ``DIR/training_curves.png`` (default the git-ignored
``outputs/training_curves``). Steps that build no tracks (metric learning) have only a loss.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
METRICS = (("val/dm_efficiency", "val DM efficiency"), ("val/dm_fake_rate", "val DM fake rate"),
           ("val/loss", "val loss"))


def read_runs(work_dir: Path) -> dict[str, pd.DataFrame]:
    """Step -> its per-epoch validation metrics (rows of the CSV logs that carry them). A run resumed from its
    checkpoint logs into a new ``version_*``: the versions are read oldest first, a later one's epochs replacing
    the same epochs of an earlier one."""
    runs = {}
    for step_dir in sorted((work_dir / "runs").iterdir()):
        logs = sorted(step_dir.glob("version_*/metrics.csv"), key=lambda p: p.stat().st_mtime)
        if not logs or step_dir.name.endswith("-predict"):
            continue
        tables = []
        for log in logs:
            table = pd.read_csv(log)
            keep = [m for m, _ in METRICS if m in table.columns]
            if keep and "epoch" in table.columns:
                tables.append(table.dropna(subset=keep, how="all")[["epoch", *keep]].groupby("epoch").last())
        if tables:
            merged = pd.concat(tables)
            runs[step_dir.name] = merged[~merged.index.duplicated(keep="last")].sort_index()
    return runs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (``sys.argv`` when ``argv`` is None)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work_dir", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "training_curves",
                        help="folder of training_curves.png")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (args.work_dir / "runs").is_dir():
        print(f"{args.work_dir}: no runs/ folder (not a comparison's work dir)", file=sys.stderr)
        return 2
    runs = read_runs(args.work_dir)
    if not runs:
        print(f"{args.work_dir / 'runs'}: no run with validation metrics", file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS), figsize=(5 * len(METRICS), 3.6))
    colors = {step: f"C{i}" for i, step in enumerate(runs)}  # one colour per step in every panel
    for ax, (metric, label) in zip(axes, METRICS, strict=True):
        for step, table in runs.items():
            if metric in table.columns and table[metric].notna().any():
                ax.plot(table.index, table[metric], marker="o", label=step, color=colors[step])
        ax.set_xlabel("epoch")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    axes[-1].legend()  # the loss panel has every step
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "training_curves.png"
    fig.savefig(out, dpi=110)
    for step, table in runs.items():
        print(f"## {step}\n{table.round(4).to_string()}\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
