"""The typed in-memory event: the TrackML tables of one event plus what is known about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

TruthKind = Literal["full", "partial", "none"]


@dataclass
class Event:
    """One TrackML-style event: hits and, when known, particles, truth and cells.

    Tables follow the TrackML challenge column names exactly (see
    :mod:`trackcore.data.schema`); columns beyond those are kept.

    Args:
        event_id: the number in ``event000001000-*`` file names.
        hits: ``hit_id, x, y, z, volume_id, layer_id, module_id`` (mm).
        particles: ``particle_id, vx, vy, vz, px, py, pz, q, nhits`` (GeV, mm), or None.
        truth: with ``truth_kind == "full"``: one row per hit, ``hit_id, particle_id,
            tx..tpz, weight``, ``particle_id == 0`` for noise. With ``"partial"``: a
            subset of hits labelled ``hit_id, particle_id``; an absent hit is *unknown*
            (not noise) and negative ids are particles whose id was not recovered.
        cells: ``hit_id, ch0, ch1, value`` or None.
        truth_kind: ``"full"``, ``"partial"`` or ``"none"``.
        source: where the event came from (file prefix or simulation parameters).
        meta: provenance: selections applied and what they removed, simulation settings.
    """

    event_id: int
    hits: pd.DataFrame
    particles: pd.DataFrame | None = None
    truth: pd.DataFrame | None = None
    cells: pd.DataFrame | None = None
    truth_kind: TruthKind = "none"
    source: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.truth_kind not in ("full", "partial", "none"):
            raise ValueError(f"truth_kind must be 'full', 'partial' or 'none' (got {self.truth_kind!r})")
        if (self.truth is None) != (self.truth_kind == "none"):
            raise ValueError(
                f"truth_kind={self.truth_kind!r} does not match truth "
                f"({'absent' if self.truth is None else 'present'})"
            )

    @property
    def n_hits(self) -> int:
        return len(self.hits)

    @property
    def name(self) -> str:
        """The TrackML file prefix of this event, e.g. ``event000001000``."""
        return f"event{self.event_id:09d}"

    def hit_particle_id(self) -> np.ndarray:
        """Particle id of every hit, aligned with ``hits`` rows; exact int64.

        TrackML particle ids exceed 2**53, so they never pass through float64 (as a pandas
        ``reindex`` with missing rows would make them): neighbouring ids would merge.

        Shapes:
            return: (N_hits,) int64; 0 for noise. With partial truth, unknown hits are 0
            too (combine with :meth:`labelled_mask` to tell unknown from noise); all 0
            without truth.
        """
        pid_j = np.zeros(self.n_hits, dtype=np.int64)
        if self.truth is None:
            return pid_j
        row = pd.Index(self.truth["hit_id"].to_numpy()).get_indexer(self.hits["hit_id"].to_numpy())
        known = row >= 0
        pid_j[known] = self.truth["particle_id"].to_numpy(np.int64)[row[known]]
        return pid_j

    def labelled_mask(self) -> np.ndarray:
        """True for hits whose particle (or noise status) is known.

        Shapes:
            return: (N_hits,) bool; all True for full truth, the labelled subset for partial.
        """
        if self.truth is None:
            return np.zeros(self.n_hits, dtype=bool)
        if self.truth_kind == "full":
            return np.ones(self.n_hits, dtype=bool)
        return self.hits["hit_id"].isin(self.truth["hit_id"]).to_numpy()

    def particle_pt(self) -> pd.Series:
        """Transverse momentum (GeV) of every particle, indexed by ``particle_id``."""
        if self.particles is None:
            raise ValueError(f"{self.source or self.name}: event has no particles table")
        p = self.particles
        return pd.Series(np.hypot(p["px"].to_numpy(), p["py"].to_numpy()), index=p["particle_id"].to_numpy())

    def copy(self) -> Event:
        """Deep copy (tables and meta)."""
        return Event(
            event_id=self.event_id,
            hits=self.hits.copy(),
            particles=None if self.particles is None else self.particles.copy(),
            truth=None if self.truth is None else self.truth.copy(),
            cells=None if self.cells is None else self.cells.copy(),
            truth_kind=self.truth_kind,
            source=self.source,
            meta={k: (v.copy() if isinstance(v, (dict, list)) else v) for k, v in self.meta.items()},
        )
