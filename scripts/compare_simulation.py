"""Compare simulated ``trackml`` events with real TrackML events: a figure and a statistics table.

Usage:
    python scripts/compare_simulation.py --real ../shared/data/trackml_real_partial --out sim_vs_real.png

The figure shows, per event, the pT, eta and hits-per-particle distributions of the
particles tables and the r-z occupancy of the hits, simulated next to real. The table
(printed) gives the mean of each statistic of :mod:`trackcore.data.simulation.realism`
over simulated and real events and their ratio. Real data: Amrouche et al., arXiv:1904.06778.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from trackcore.data.event import Event  # noqa: E402
from trackcore.data.simulation import simulate_event  # noqa: E402
from trackcore.data.simulation.realism import compare_statistics  # noqa: E402
from trackcore.data.trackml_io import read_events  # noqa: E402


def _particle_columns(events: list[Event]) -> pd.DataFrame:
    p = pd.concat([e.particles for e in events], ignore_index=True)
    pt = np.hypot(p["px"], p["py"])
    return pd.DataFrame({"pt": pt, "eta": np.arcsinh(p["pz"] / pt), "nhits": p["nhits"]})


def _hits_rz(events: list[Event]) -> tuple[np.ndarray, np.ndarray]:
    h = pd.concat([e.hits[["x", "y", "z"]] for e in events], ignore_index=True)
    return h["z"].to_numpy(), np.hypot(h["x"], h["y"]).to_numpy()


def plot_comparison(sim: list[Event], real: list[Event], out: Path) -> None:
    """Save the four-panel spectra figure and the two r-z occupancy maps to ``out``."""
    ps, pr = _particle_columns(sim), _particle_columns(real)
    ws, wr = 1.0 / len(sim), 1.0 / len(real)  # per-event normalisation
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    style = dict(histtype="step", linewidth=1.5)
    bins = np.logspace(-1, 2, 61)
    for ax, col, b, xlabel, logx in (
        (axes[0, 0], "pt", bins, "pT [GeV]", True),
        (axes[0, 1], "eta", np.linspace(-4.5, 4.5, 73), "eta", False),
        (axes[0, 2], "nhits", np.arange(-0.5, 25.5), "hits per particle", False),
    ):
        ax.hist(ps[col], bins=b, weights=np.full(len(ps), ws), label=f"simulated ({len(sim)} events)", **style)
        ax.hist(pr[col], bins=b, weights=np.full(len(pr), wr), label=f"real ({len(real)} events)", **style)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("particles per event")
        if logx:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.legend()
    rz_bins = (np.linspace(-3100, 3100, 249), np.linspace(0, 1050, 106))
    for ax, events, title in ((axes[1, 0], sim, "simulated"), (axes[1, 1], real, "real")):
        z, r = _hits_rz(events)
        h = ax.hist2d(z, r, bins=rz_bins, weights=np.full(len(z), 1.0 / len(events)), cmin=1e-9,
                      norm=matplotlib.colors.LogNorm(vmin=0.1, vmax=2e3))
        fig.colorbar(h[3], ax=ax, label="hits per event per bin")
        ax.set_xlabel("z [mm]")
        ax.set_ylabel("r [mm]")
        ax.set_title(f"hit occupancy, {title}")
    zs, rs = _hits_rz(sim)
    zr, rr = _hits_rz(real)
    ax = axes[1, 2]
    ax.hist(rs, bins=np.linspace(0, 1050, 211), weights=np.full(len(rs), ws), label="simulated", **style)
    ax.hist(rr, bins=np.linspace(0, 1050, 211), weights=np.full(len(rr), wr), label="real", **style)
    ax.set_yscale("log")
    ax.set_xlabel("hit r [mm]")
    ax.set_ylabel("hits per event")
    ax.legend()
    fig.suptitle("trackcore simulation (preset trackml) vs real TrackML events (arXiv:1904.06778)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, required=True, help="folder of real TrackML events")
    parser.add_argument("--out", type=Path, required=True, help="figure file to write (e.g. .png)")
    parser.add_argument("--n-sim", type=int, default=3, help="simulated events (default 3)")
    parser.add_argument("--n-real", type=int, default=None, help="real events to read (default all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    real = list(read_events(args.real, validate=False))[: args.n_real]
    sim = [simulate_event("trackml", seed=args.seed, event_id=1000 + i) for i in range(args.n_sim)]
    table = compare_statistics(sim, real)
    with pd.option_context("display.float_format", "{:.4g}".format, "display.width", 120):
        print(table[["sim", "real", "ratio", "sim_std", "real_std"]].to_string())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot_comparison(sim, real, args.out)
    print(f"figure written to {args.out}")


if __name__ == "__main__":
    main()
