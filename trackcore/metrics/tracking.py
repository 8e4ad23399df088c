"""Track-level metrics: efficiencies, fake and duplicate rates, TrackML score, binned rates.

Definitions (DESIGN.md, "Metrics"); matching schemes in :mod:`trackcore.metrics.matching`:

- a candidate with fewer than ``min_candidate_hits`` hits counts for nothing: it
  reconstructs no particle, is no duplicate and no fake (as gnn_tracking and acorn);
- efficiency (scheme s): particles of interest with at least one s-matched candidate of
  ``>= min_candidate_hits`` hits, over particles of interest;
- fake rate (s): candidates with ``>= min_candidate_hits`` hits that s-match no particle at
  all, over such candidates. A candidate whose hits are mostly of unknown truth (partial
  truth) is neither fake nor matched: it is *unknown*, and ``*_fake_rate_upper`` counts it as
  fake, so the true fake rate lies between the two;
- duplicate rate (s): candidates (``>= min_candidate_hits`` hits) s-matched to particles of
  interest, per matched particle of interest, minus one.

The TrackML score is the challenge's own definition and counts every candidate, whatever
its size. ``docs/metrics.md`` sets these definitions beside gnn_tracking's and acorn's.

Counts are summed over events before dividing (never an average of per-event rates); the
TrackML score is the mean of the per-event scores, as in the challenge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trackcore.candidates import TrackCandidates
from trackcore.metrics.binning import ETA_BINS, PT_BINS, BinnedRate, binned_rate
from trackcore.metrics.matching import SCHEMES, match_tracks
from trackcore.metrics.trackml_score import score_from_matches
from trackcore.metrics.truth import EventTruth, ParticlesOfInterest


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den > 0 else float("nan")


@dataclass(frozen=True)
class TrackingEvaluation:
    """Per-particle and per-candidate match tables of one or more events.

    Attributes:
        particles: one row per particle with hits: ``event_id, particle_id, pt, eta, nhits,
            of_interest, of_interest_any_pt`` and, per scheme ``s`` in dm/lhc/perfect,
            ``s`` (matched, bool) and ``n_s`` (number of s-matched candidates).
        candidates: one row per candidate: ``event_id, track_id, size, labelled, eta``
            (median eta of its hits, NaN when unknown), ``considered`` (size >=
            min_candidate_hits), ``majority_particle_id, purity`` (of its best-overlapping
            particle, 0 / 0.0 when none) and per scheme ``s`` (matched to any particle),
            ``s_poi`` (matched to a particle of interest); both are False for a candidate
            that is not considered (it matches nothing).
        events: one row per event: ``event_id, n_hits, n_assigned, n_memberships, n_shared,
            trackml_score`` (NaN without weights).
        poi: the particles of interest used.
    """

    particles: pd.DataFrame
    candidates: pd.DataFrame
    events: pd.DataFrame
    poi: ParticlesOfInterest = field(default_factory=ParticlesOfInterest)

    # ------------------------------------------------------------------ combine
    @classmethod
    def concat(cls, evaluations: Sequence[TrackingEvaluation]) -> TrackingEvaluation:
        """Pool several events (same particles of interest required)."""
        if not evaluations:
            raise ValueError("nothing to concatenate: no evaluations given")
        pois = {e.poi for e in evaluations}
        if len(pois) > 1:
            raise ValueError(f"cannot pool evaluations with different particles of interest: {pois}")
        return cls(
            particles=pd.concat([e.particles for e in evaluations], ignore_index=True),
            candidates=pd.concat([e.candidates for e in evaluations], ignore_index=True),
            events=pd.concat([e.events for e in evaluations], ignore_index=True),
            poi=evaluations[0].poi,
        )

    # ------------------------------------------------------------------ summary
    def summary(self) -> dict[str, float]:
        """All headline numbers as a flat dict (NaN where a rate has no denominator)."""
        p, c, ev = self.particles, self.candidates, self.events
        poi = p["of_interest"].to_numpy(bool)
        considered = c["considered"].to_numpy(bool)
        out: dict[str, float] = {
            "n_events": float(len(ev)),
            "n_particles": float(poi.sum()),
            "n_candidates": float(considered.sum()),
        }
        for s in SCHEMES:
            matched = p[s].to_numpy(bool) & poi
            n_matched = matched.sum()
            fake, unknown = self.fake_and_unknown(s)
            fakes, unknown = fake & considered, unknown & considered
            out[f"{s}_efficiency"] = _ratio(n_matched, poi.sum())
            out[f"{s}_fake_rate"] = _ratio(fakes.sum(), considered.sum())
            out[f"{s}_fake_rate_upper"] = _ratio(fakes.sum() + unknown.sum(), considered.sum())
            out[f"{s}_duplicate_rate"] = _ratio(p[f"n_{s}"].to_numpy()[matched].sum(), n_matched) - 1.0
        n_assigned = ev["n_assigned"].sum()
        out["shared_hit_fraction"] = _ratio(ev["n_shared"].sum(), n_assigned)
        out["assigned_hit_fraction"] = _ratio(n_assigned, ev["n_hits"].sum())
        scores = ev["trackml_score"].to_numpy(float)
        out["trackml_score"] = float(np.mean(scores)) if len(scores) and not np.isnan(scores).any() else float("nan")
        return out

    # ------------------------------------------------------------------ binned
    def binned_efficiency(
        self, variable: str = "pt", edges: np.ndarray | None = None, scheme: str = "dm"
    ) -> BinnedRate:
        """Efficiency in bins of the particle's ``pt`` or ``eta``, Clopper-Pearson intervals.

        In bins of pT the pT cut of the particles of interest is not applied (the turn-on
        below the cut is the point of the plot); every other cut is.
        """
        self._check(variable, scheme)
        p = self.particles
        mask = p["of_interest_any_pt" if variable == "pt" else "of_interest"].to_numpy(bool)
        edges = _default_edges(variable) if edges is None else edges
        return binned_rate(p[variable].to_numpy(float)[mask], p[scheme].to_numpy(bool)[mask], edges, variable)

    def binned_duplicate_fraction(
        self, variable: str = "pt", edges: np.ndarray | None = None, scheme: str = "dm"
    ) -> BinnedRate:
        """Fraction of matched particles of interest with more than one matched candidate."""
        self._check(variable, scheme)
        p = self.particles
        mask = p["of_interest_any_pt" if variable == "pt" else "of_interest"].to_numpy(bool) & p[scheme].to_numpy(bool)
        edges = _default_edges(variable) if edges is None else edges
        return binned_rate(p[variable].to_numpy(float)[mask], (p[f"n_{scheme}"].to_numpy() > 1)[mask], edges, variable)

    def binned_fake_rate(self, edges: np.ndarray | None = None, scheme: str = "dm") -> BinnedRate:
        """Fake rate in bins of the candidate's eta (median of its hits' eta)."""
        self._check("eta", scheme)
        c = self.candidates
        considered = c["considered"].to_numpy(bool)
        fake, _ = self.fake_and_unknown(scheme)
        edges = ETA_BINS if edges is None else edges
        return binned_rate(c["eta"].to_numpy(float)[considered], fake[considered], edges, "eta")

    def fake_and_unknown(self, scheme: str) -> tuple[np.ndarray, np.ndarray]:
        """Per candidate: fake (no s-match, mostly known hits) and unknown (no s-match, mostly unknown hits)."""
        c = self.candidates
        unmatched = ~c[scheme].to_numpy(bool)
        mostly_unknown = c["labelled"].to_numpy() * 2 <= c["size"].to_numpy()
        return unmatched & ~mostly_unknown, unmatched & mostly_unknown

    @staticmethod
    def _check(variable: str, scheme: str) -> None:
        if variable not in ("pt", "eta"):
            raise ValueError(f"variable must be 'pt' or 'eta' (got {variable!r})")
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES} (got {scheme!r})")


def _default_edges(variable: str) -> np.ndarray:
    return PT_BINS if variable == "pt" else ETA_BINS


def evaluate_tracks(
    candidates: TrackCandidates,
    truth: EventTruth,
    poi: ParticlesOfInterest | None = None,
) -> TrackingEvaluation:
    """Match one event's candidates to its particles and tabulate every metric's inputs.

    Args:
        candidates: the (hit_id, track_id) table; hits may be shared or unassigned.
        truth: the evaluated hits and particles (the hit set the tracker ran on).
        poi: particles of interest (default pT > 1 GeV, >= 3 hits).

    Shapes:
        candidates: (M,) memberships over ``truth.hit_id_j`` (N_hits,).

    Raises:
        ValueError: candidates name hits that are not in ``truth``.
    """
    poi = poi or ParticlesOfInterest()
    m = match_tracks(candidates, truth)
    n_p, n_t = len(truth.particle_id_p), m.n_tracks
    nhits_p = truth.nhits_p

    particle_cols: dict[str, np.ndarray] = {}
    track_cols: dict[str, np.ndarray] = {}
    interest_p = poi.mask(truth.pt_p, truth.eta_p, nhits_p)
    # A candidate below min_candidate_hits counts for nothing: it reconstructs no particle,
    # is no duplicate and no fake (as gnn_tracking and acorn).
    considered_t = m.size_t >= poi.min_candidate_hits
    considered_pair = considered_t[m.pair_track]
    for s in SCHEMES:
        ok = getattr(m, s) & considered_pair
        particle_cols[f"n_{s}"] = np.bincount(m.pair_particle[ok], minlength=n_p)
        particle_cols[s] = particle_cols[f"n_{s}"] > 0
        track_cols[s] = np.bincount(m.pair_track[ok], minlength=n_t) > 0
        track_cols[f"{s}_poi"] = np.bincount(m.pair_track[ok & interest_p[m.pair_particle]], minlength=n_t) > 0

    has_hits = nhits_p > 0
    particles = pd.DataFrame(
        {
            "event_id": truth.event_id,
            "particle_id": truth.particle_id_p,
            "pt": truth.pt_p,
            "eta": truth.eta_p,
            "nhits": nhits_p,
            "of_interest": interest_p,
            "of_interest_any_pt": poi.mask(truth.pt_p, truth.eta_p, nhits_p, apply_pt=False),
            **particle_cols,
        }
    )[has_hits].reset_index(drop=True)

    # Best-overlapping particle of each candidate: the pair with the most shared hits.
    majority_pid = np.zeros(n_t, dtype=np.int64)
    purity_t = np.zeros(n_t)
    if len(m.pair_track):
        order = np.lexsort((-m.n_shared, m.pair_track))
        first = order[np.r_[True, m.pair_track[order][1:] != m.pair_track[order][:-1]]]
        majority_pid[m.pair_track[first]] = truth.particle_id_p[m.pair_particle[first]]
        purity_t[m.pair_track[first]] = m.purity[first]
    eta_t = np.full(n_t, np.nan)
    if truth.hit_eta_j is not None and n_t:
        eta_t = _group_median(m.membership_track_m, truth.hit_eta_j[m.membership_row_m], n_t)
    candidates_df = pd.DataFrame(
        {
            "event_id": truth.event_id,
            "track_id": m.track_id_t,
            "size": m.size_t,
            "labelled": m.labelled_t,
            "eta": eta_t,
            "considered": considered_t,
            "majority_particle_id": majority_pid,
            "purity": purity_t,
            **track_cols,
        }
    )

    hits_per_member = np.bincount(m.membership_row_m, minlength=truth.n_hits)
    score = score_from_matches(m, truth)
    events = pd.DataFrame(
        {
            "event_id": [truth.event_id],
            "n_hits": [truth.n_hits],
            "n_assigned": [int((hits_per_member > 0).sum())],
            "n_memberships": [len(candidates)],
            "n_shared": [int((hits_per_member > 1).sum())],
            "trackml_score": [np.nan if score is None else score],
        }
    )
    return TrackingEvaluation(particles=particles, candidates=candidates_df, events=events, poi=poi)


def _group_median(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` within each group ``0..n_groups-1`` (NaN for empty groups), no loop."""
    order = np.lexsort((values, group))
    g, v = group[order], values[order]
    counts = np.bincount(g, minlength=n_groups)
    start = np.r_[0, np.cumsum(counts)[:-1]]
    out = np.full(n_groups, np.nan)
    has = counts > 0
    lo = start[has] + (counts[has] - 1) // 2
    hi = start[has] + counts[has] // 2
    out[has] = 0.5 * (v[lo] + v[hi])
    return out


def evaluate_events(
    pairs: Sequence[tuple[TrackCandidates, EventTruth]],
    poi: ParticlesOfInterest | None = None,
    progress: Callable | None = None,
) -> TrackingEvaluation:
    """Evaluate several events and pool them (see :meth:`TrackingEvaluation.concat`)."""
    it = pairs if progress is None else progress(pairs)
    return TrackingEvaluation.concat([evaluate_tracks(c, t, poi) for c, t in it])
