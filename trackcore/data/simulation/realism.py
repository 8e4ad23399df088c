"""The statistics a simulated event must share with real TrackML events, sim next to real.

Both sides go through :func:`trackcore.data.summary.summarize`, so they are defined alike:
particles are the rows of the particles table (with the particles that left no hit, as in
the real files), the noise fraction of a real event is ``1 - sum(nhits) / n_hits``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from trackcore.data.event import Event
from trackcore.data.schema import ALL_VOLUMES
from trackcore.data.summary import summarize


def event_statistics(event: Event) -> dict[str, float]:
    """Hits, particles, noise fraction, pT spectrum and hits per volume of one event."""
    s = summarize(event)
    if s.n_particles is None or s.noise_fraction is None:
        raise ValueError(f"{event.source or event.name}: needs a particles table with nhits (or full truth)")
    row = {
        "hits": float(s.n_hits),
        "particles": float(s.n_particles),
        "noise_fraction": s.noise_fraction,
        "frac_pt_above_1": s.frac_pt_above_1,
        "median_pt": s.pt_quantiles[0.5],
    }
    for vol in ALL_VOLUMES:
        row[f"hits_volume_{vol}"] = float(s.hits_per_volume.get(vol, 0))
    return row


def compare_statistics(simulated: Iterable[Event], real: Iterable[Event]) -> pd.DataFrame:
    """Mean of each statistic over simulated and over real events, and their ratio.

    Returns:
        A table indexed by statistic with columns ``sim``, ``real``, ``ratio`` (sim / real),
        ``sim_std`` and ``real_std`` (spread between events).
    """
    sim = pd.DataFrame([event_statistics(e) for e in simulated])
    ref = pd.DataFrame([event_statistics(e) for e in real])
    if sim.empty or ref.empty:
        raise ValueError("need at least one simulated and one real event")
    table = pd.DataFrame({"sim": sim.mean(), "real": ref.mean()})
    table["ratio"] = table["sim"] / table["real"].replace(0.0, np.nan)
    table["sim_std"] = sim.std(ddof=0)
    table["real_std"] = ref.std(ddof=0)
    return table
