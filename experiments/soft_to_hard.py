"""The soft-to-hard assignment study (see trackcore.study.soft_to_hard).

    python experiments/soft_to_hard.py --stage hgnn=stages/hgnn_small --stage oc=stages/oc_small \\
        --stage eggnet=stages/eggnet_small --stage ec=stages/ec_small/tracks --split test \\
        --out reports/soft_to_hard_small

Writes ``study.csv``, ``study.md`` (the best setting of each method and its rates) and one
plot per (stage, knob).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm.auto import tqdm

from trackcore.metrics import ParticlesOfInterest
from trackcore.study import plot_study, run_study


def markdown_table(frame) -> str:
    """A Markdown table (rates as percentages)."""

    def cell(column: str, value: object) -> str:
        if isinstance(value, float):
            return f"{100 * value:.2f}%" if column not in ("value",) else f"{value:g}"
        return str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(c, v) for c, v in row.items()) + " |" for _, row in frame.iterrows()]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stage", action="append", required=True, help="LABEL=STAGE_DIR (repeat)")
    p.add_argument("--split", default="test")
    p.add_argument("--out", default="reports/soft_to_hard")
    p.add_argument("--max-events", type=int, default=None)
    p.add_argument("--min-pt", type=float, default=1.0)
    args = p.parse_args()
    stages = dict(s.split("=", 1) for s in args.stage)
    table = run_study(stages, split=args.split, poi=ParticlesOfInterest(min_pt=args.min_pt),
                      max_events=args.max_events, progress=lambda items: tqdm(items, desc="settings"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "study.csv", index=False)
    best = (table.assign(objective=table["dm_efficiency"] - table["dm_fake_rate"])
            .sort_values("objective", ascending=False).groupby(["stage", "method"], sort=False).head(1))
    columns = ["stage", "method", "knob", "value", "dm_efficiency", "dm_fake_rate", "dm_duplicate_rate",
               "shared_hit_fraction", "perfect_efficiency"]
    (out / "study.md").write_text(markdown_table(best[columns]))
    print(best[columns].to_string(index=False))
    for path in plot_study(table, out):
        print(f"wrote {path}")
    print(f"wrote {out / 'study.csv'} and {out / 'study.md'}")


if __name__ == "__main__":
    main()
