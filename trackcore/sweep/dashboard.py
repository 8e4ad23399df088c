"""A static HTML dashboard of local sweeps, viewable in any browser without W&B.

For every ``trials.csv`` under a runs folder (written by ``trackcore sweep``) the page shows: a
parallel-coordinates plot of the trials (one axis per parameter and the metric, lines coloured
by the metric), the metric against each parameter, the learning curves of every trial (from
its run's ``metrics.csv``) and a best-trials table. Plots are inline SVG: one self-contained file.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

_STYLE = """body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}h2{margin-top:2em}
.plots svg{max-width:100%;height:auto}"""


def _svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _numeric(column: pd.Series) -> tuple[np.ndarray, list[str] | None]:
    """Values on [0, 1] for a parallel axis, and tick labels for a categorical column."""
    values = pd.to_numeric(column, errors="coerce")
    if values.notna().all():
        lo, hi = float(values.min()), float(values.max())
        return ((values - lo) / (hi - lo) if hi > lo else values * 0 + 0.5).to_numpy(float), None
    cats = sorted(column.astype(str).unique())
    codes = column.astype(str).map({c: i for i, c in enumerate(cats)}).to_numpy(float)
    return codes / max(len(cats) - 1, 1), cats


def parallel_coordinates(trials: pd.DataFrame, params: list[str], metric: str) -> str:
    """Inline SVG: one polyline per trial across the parameter axes and the metric axis."""
    columns = [*params, "value"]
    fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(columns)), 4))
    scaled = np.stack([_numeric(trials[c])[0] for c in columns], axis=1)
    value = trials["value"].to_numpy(float)
    finite = np.isfinite(value)
    norm = plt.Normalize(np.nanmin(value[finite]), np.nanmax(value[finite])) if finite.any() else plt.Normalize(0, 1)
    for row, v in zip(scaled, value, strict=True):
        ax.plot(range(len(columns)), row, color=plt.cm.viridis(norm(v)) if np.isfinite(v) else "lightgrey", alpha=0.8)
    for i, c in enumerate(columns):
        ax.axvline(i, color="black", lw=0.8)
        raw = trials[c]
        _, cats = _numeric(raw)
        labels = cats if cats is not None else [f"{pd.to_numeric(raw).min():.4g}", f"{pd.to_numeric(raw).max():.4g}"]
        ax.text(i, -0.08, labels[0], ha="center", va="top", fontsize=8)
        ax.text(i, 1.04, labels[-1], ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(columns)), [c.removeprefix("param:").split(".")[-1] for c in params] + [metric], fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.15, 1.12)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=ax, label=metric)
    return _svg(fig)


def metric_vs_parameters(trials: pd.DataFrame, params: list[str], metric: str) -> str:
    """Inline SVG: the metric against each parameter (log x for a wide positive range)."""
    fig, axes = plt.subplots(1, len(params), figsize=(3.2 * len(params), 3), squeeze=False)
    for ax, p in zip(axes[0], params, strict=True):
        x = pd.to_numeric(trials[p], errors="coerce")
        if x.notna().all():
            ax.scatter(x, trials["value"], c="tab:blue")
            if x.min() > 0 and x.max() / x.min() > 20:
                ax.set_xscale("log")
        else:
            cats = sorted(trials[p].astype(str).unique())
            ax.scatter(trials[p].astype(str).map({c: i for i, c in enumerate(cats)}), trials["value"], c="tab:blue")
            ax.set_xticks(range(len(cats)), cats)
        ax.set_xlabel(p.removeprefix("param:").split(".")[-1])
        ax.set_ylabel(metric)
    fig.tight_layout()
    return _svg(fig)


def learning_curves(trials: pd.DataFrame, metric: str) -> str | None:
    """Inline SVG: the metric by epoch of every trial whose run folder has a ``metrics.csv``."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    drawn = 0
    for _, t in trials.iterrows():
        files = sorted(Path(str(t["run_dir"])).glob("version_*/metrics.csv")) if isinstance(t["run_dir"], str) else []
        if not files:
            continue
        log = pd.read_csv(files[-1])
        if metric not in log:
            continue
        curve = log.dropna(subset=[metric])
        ax.plot(curve["epoch"], curve[metric], marker="o", label=f"trial {t['number']}")
        drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    return _svg(fig)


def _table(trials: pd.DataFrame, goal: str, top: int) -> str:
    order = trials.sort_values("value", ascending=goal == "minimize", na_position="last").head(top)
    keep = ["number", "state", "value", *[c for c in trials if c.startswith("param:")], "epochs", "seconds"]
    shown = order[[c for c in keep if c in order]].rename(columns=lambda c: c.removeprefix("param:"))
    return shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)


def build_dashboard(runs_dir: str | Path, out: str | Path | None = None, *, top: int = 10) -> Path:
    """Write the dashboard of every sweep under ``runs_dir`` (default ``<runs_dir>/dashboard.html``).

    Raises:
        FileNotFoundError: ``runs_dir`` is missing or holds no ``trials.csv``.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise FileNotFoundError(f"{runs_dir}: runs folder not found")
    tables = sorted(runs_dir.rglob("trials.csv"))
    if not tables:
        raise FileNotFoundError(f"{runs_dir}: no sweep here (no trials.csv); run `trackcore sweep FILE` first")
    out = Path(out) if out is not None else runs_dir / "dashboard.html"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>trackcore sweeps</title>"
        f"<style>{_STYLE}</style></head><body><h1>trackcore sweeps: {html.escape(str(runs_dir))}</h1>"
    ]
    for path in tables:
        trials = pd.read_csv(path)
        if trials.empty:
            continue
        metric, goal = str(trials["metric"].iloc[0]), str(trials["goal"].iloc[0])
        params = [c for c in trials if c.startswith("param:") and trials[c].nunique(dropna=True) > 1]
        done = trials[trials["state"].isin(["COMPLETE", "PRUNED"])]
        best = done.sort_values("value", ascending=goal == "minimize").head(1)
        parts.append(
            f"<h2>{html.escape(path.parent.name)}</h2><p>{len(trials)} trials "
            f"({(trials['state'] == 'COMPLETE').sum()} complete, {(trials['state'] == 'PRUNED').sum()} "
            f"pruned); metric <b>{html.escape(metric)}</b> ({goal})"
        )
        if len(best):
            b = best.iloc[0]
            setting = ", ".join(f"{c.removeprefix('param:')}={b[c]}" for c in trials if c.startswith("param:"))
            parts.append(f"; best: trial {b['number']}, {metric} = {b['value']:.4g} ({html.escape(setting)})")
        parts.append("</p>")
        if params and len(done):
            parts.append(
                "<h3>Parallel coordinates</h3><div class='plots'>"
                + parallel_coordinates(done, params, metric)
                + "</div>"
            )
            parts.append(
                "<h3>Metric vs parameter</h3><div class='plots'>"
                + metric_vs_parameters(done, params, metric)
                + "</div>"
            )
        curves = learning_curves(trials, metric)
        if curves is not None:
            parts.append("<h3>Learning curves</h3><div class='plots'>" + curves + "</div>")
        parts.append(f"<h3>Best trials</h3>{_table(trials, goal, top)}")
    parts.append("</body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts))
    return out
