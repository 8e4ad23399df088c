"""What the tracking metrics need to know about one event, and which particles they target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trackcore.arrays import unique_ints
from trackcore.candidates import as_numpy
from trackcore.data.event import Event
from trackcore.data.features import particle_kinematics, pseudorapidity


def unbatched(value: Any) -> Any:
    """A non-tensor field of a stage output that went through a batch of one (the writer saves the
    batch): ``[["full"]]`` -> ``"full"``, ``[[7, 8, 9]]`` -> ``[7, 8, 9]``; other values as they are."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def event_truth_kind(event: Any) -> str:
    """``"full"`` or ``"partial"``: the truth a processed event (or a stage output) carries."""
    return str(unbatched(getattr(event, "truth_kind", "full")))


@dataclass(frozen=True)
class ParticlesOfInterest:
    """The particles whose reconstruction efficiency is measured.

    A particle is of interest when ``pt > min_pt`` (strict), it has at least ``min_hits`` hits
    in the evaluated hit set and, when ``max_abs_eta`` is set, ``|eta| < max_abs_eta``.
    Particles of unknown pT (partial truth, unrecovered ids) never pass a pT cut > 0.

    Args:
        min_pt: pT threshold in GeV (strict); 0 keeps every pT.
        min_hits: minimum number of the particle's hits in the evaluated set.
        max_abs_eta: |eta| limit, or None for no limit.
        min_candidate_hits: candidates with fewer hits count for nothing: they
            reconstruct no particle (efficiency), are no duplicate and no fake (DESIGN,
            "Metrics"; as gnn_tracking and acorn).
    """

    min_pt: float = 1.0
    min_hits: int = 3
    max_abs_eta: float | None = None
    min_candidate_hits: int = 3

    def __post_init__(self) -> None:
        if self.min_pt < 0 or self.min_hits < 1 or self.min_candidate_hits < 1:
            raise ValueError(f"invalid particles of interest: {self}")
        if self.max_abs_eta is not None and self.max_abs_eta <= 0:
            raise ValueError(f"max_abs_eta must be positive or None (got {self.max_abs_eta})")

    def mask(self, pt_p: np.ndarray, eta_p: np.ndarray, nhits_p: np.ndarray, *, apply_pt: bool = True) -> np.ndarray:
        """Which particles are of interest; ``apply_pt=False`` drops the pT cut (efficiency vs pT).

        Shapes:
            pt_p, eta_p, nhits_p: (P,); return: (P,) bool.
        """
        keep = np.asarray(nhits_p) >= self.min_hits
        if apply_pt and self.min_pt > 0:
            with np.errstate(invalid="ignore"):
                keep &= np.asarray(pt_p) > self.min_pt
        if self.max_abs_eta is not None:
            with np.errstate(invalid="ignore"):
                keep &= np.abs(np.asarray(eta_p)) < self.max_abs_eta
        return keep

    def target_hits(self, pt_j: Any) -> Any | None:
        """Hits of particles above the pT cut (``pt_j > min_pt``), None when there is no cut.

        Works on torch tensors and numpy arrays alike (the comparison keeps the type).

        Shapes:
            pt_j: (N_hits,) -> (N_hits,) bool.
        """
        return pt_j > self.min_pt if self.min_pt > 0 else None

    def label(self) -> str:
        """A short description, e.g. ``pT > 1 GeV, >= 3 hits``."""
        parts = [f"pT > {self.min_pt:g} GeV" if self.min_pt > 0 else "all pT", f">= {self.min_hits} hits"]
        if self.max_abs_eta is not None:
            parts.append(f"|eta| < {self.max_abs_eta:g}")
        return ", ".join(parts)


@dataclass(frozen=True)
class EventTruth:
    """Per-hit truth and the particle table of one event, as the metrics read them.

    Args:
        hit_id_j: TrackML hit ids of the evaluated hits (unique).
        particle_id_j: particle of each hit; 0 for noise and for unknown hits.
        particle_id_p: the particles (unique, non-zero); must contain every non-zero
            ``particle_id_j``. Particles without hits in the evaluated set may be listed.
        pt_p, eta_p: their pT (GeV) and eta, NaN when unknown.
        labelled_j: True where the hit's truth is known (partial truth); default all True.
        weight_j: TrackML score weights (full truth only), or None.
        hit_eta_j: pseudorapidity of each hit's position (candidate eta for fake-rate
            binning), or None.
        event_id: for the tables; -1 when unknown.
        truth_kind: ``"full"`` or ``"partial"``.

    Shapes:
        ``*_j``: (N_hits,); ``*_p``: (N_particles,).

    Raises:
        ValueError: mismatched lengths, duplicate hit or particle ids, or hits whose
            particle is not in the table.
    """

    hit_id_j: np.ndarray
    particle_id_j: np.ndarray
    particle_id_p: np.ndarray
    pt_p: np.ndarray
    eta_p: np.ndarray
    labelled_j: np.ndarray | None = None
    weight_j: np.ndarray | None = None
    hit_eta_j: np.ndarray | None = None
    event_id: int = -1
    truth_kind: str = "full"
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "hit_id_j", as_numpy(self.hit_id_j).astype(np.int64, copy=False).ravel())
        s(self, "particle_id_j", as_numpy(self.particle_id_j).astype(np.int64, copy=False).ravel())
        s(self, "particle_id_p", as_numpy(self.particle_id_p).astype(np.int64, copy=False).ravel())
        s(self, "pt_p", as_numpy(self.pt_p, np.float64).ravel())
        s(self, "eta_p", as_numpy(self.eta_p, np.float64).ravel())
        n, p = len(self.hit_id_j), len(self.particle_id_p)
        labelled = np.ones(n, bool) if self.labelled_j is None else as_numpy(self.labelled_j, bool).ravel()
        s(self, "labelled_j", labelled)
        if self.weight_j is not None:
            s(self, "weight_j", as_numpy(self.weight_j, np.float64).ravel())
        if self.hit_eta_j is not None:
            s(self, "hit_eta_j", as_numpy(self.hit_eta_j, np.float64).ravel())
        for name in ("particle_id_j", "labelled_j", "weight_j", "hit_eta_j"):
            a = getattr(self, name)
            if a is not None and len(a) != n:
                raise ValueError(f"Expected '{name}' of length {n} like 'hit_id_j' (got {len(a)})")
        for name in ("pt_p", "eta_p"):
            if len(getattr(self, name)) != p:
                raise ValueError(
                    f"Expected '{name}' of length {p} like 'particle_id_p' (got {len(getattr(self, name))})"
                )
        hit_index = pd.Index(self.hit_id_j)
        if not hit_index.is_unique:
            raise ValueError(f"event {self.event_id}: {n - hit_index.nunique()} duplicate hit ids in the truth")
        particle_index = pd.Index(self.particle_id_p)
        if not particle_index.is_unique:
            raise ValueError(f"event {self.event_id}: duplicate particle ids in the particle table")
        if (self.particle_id_p == 0).any():
            raise ValueError(f"event {self.event_id}: particle id 0 (noise) must not be in the particle table")
        row_j = particle_index.get_indexer(self.particle_id_j)
        missing = (row_j < 0) & (self.particle_id_j != 0)
        if missing.any():
            raise ValueError(
                f"event {self.event_id}: {int(missing.sum())} hits belong to particles missing from the particle "
                f"table (e.g. particle_id {int(self.particle_id_j[missing][0])})"
            )
        if self.weight_j is not None and not np.isfinite(self.weight_j).all():
            raise ValueError(f"event {self.event_id}: non-finite TrackML weights")
        self._derived["hit_index"] = hit_index
        self._derived["particle_row_j"] = row_j
        self._derived["nhits_p"] = np.bincount(row_j[row_j >= 0], minlength=p)

    # ------------------------------------------------------------------ derived
    @property
    def n_hits(self) -> int:
        return len(self.hit_id_j)

    @property
    def hit_index(self) -> pd.Index:
        """``pd.Index`` of hit ids, to map candidate hit ids to rows."""
        return self._derived["hit_index"]

    @property
    def particle_row_j(self) -> np.ndarray:
        """Row of each hit's particle in the particle table; -1 for noise and unknown hits."""
        return self._derived["particle_row_j"]

    @property
    def nhits_p(self) -> np.ndarray:
        """Hits of each particle in the evaluated set."""
        return self._derived["nhits_p"]

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_data(cls, data: Any) -> EventTruth:
        """From a processed event (:func:`trackcore.data.process_event`): its hits after selection."""
        for key in ("hit_id", "particle_id", "particle_table_id", "particle_table_pt", "particle_table_eta"):
            if getattr(data, key, None) is None:
                raise ValueError(f"processed event has no '{key}': not a trackcore processed event?")
        weight = getattr(data, "weight", None)
        labelled = getattr(data, "labelled", None)
        pos = getattr(data, "pos", None)
        hit_eta = None
        if pos is not None:
            p = as_numpy(pos, np.float64)
            hit_eta = pseudorapidity(np.hypot(p[:, 0], p[:, 1]), p[:, 2])
        return cls(
            hit_id_j=data.hit_id,
            particle_id_j=data.particle_id,
            particle_id_p=data.particle_table_id,
            pt_p=data.particle_table_pt,
            eta_p=data.particle_table_eta,
            labelled_j=labelled,
            weight_j=weight,
            hit_eta_j=hit_eta,
            event_id=int(getattr(data, "event_id", -1)),
            truth_kind=event_truth_kind(data),
        )

    @classmethod
    def from_event(cls, event: Event) -> EventTruth:
        """From an :class:`~trackcore.data.Event` with truth: all its hits are evaluated."""
        if event.truth is None:
            raise ValueError(f"{event.source or event.name}: event has no truth; metrics need it")
        pid_j = event.hit_particle_id()
        ids = unique_ints(pid_j[pid_j != 0])
        pt_p, eta_p, _ = particle_kinematics(event.particles, ids)
        weight = None
        if event.truth_kind == "full" and "weight" in event.truth.columns:
            row = pd.Index(event.truth["hit_id"].to_numpy()).get_indexer(event.hits["hit_id"].to_numpy())
            weight = np.where(row >= 0, event.truth["weight"].to_numpy(np.float64)[row], 0.0)
        h = event.hits
        hit_eta = pseudorapidity(np.hypot(h["x"].to_numpy(float), h["y"].to_numpy(float)), h["z"].to_numpy(float))
        return cls(
            hit_id_j=h["hit_id"].to_numpy(),
            particle_id_j=pid_j,
            particle_id_p=ids,
            pt_p=pt_p,
            eta_p=eta_p,
            labelled_j=event.labelled_mask(),
            weight_j=weight,
            hit_eta_j=hit_eta,
            event_id=int(event.event_id),
            truth_kind=event.truth_kind,
        )
