"""Helix-fit refinement of track candidates: clean, merge and extend any builder's tracks.

Every builder decides from learned scores alone, so its mistakes are geometric nonsense that a track fit
sees at once: a stray hit of another particle, or one particle cut in two pieces (the double-majority
metric then counts the piece as a fake and, if it holds half the hits, loses the particle). The production
trackers (the ACTS CKF) never keep such tracks because every hit passes a fit. :class:`HelixRefinement`
gives every family the same check, after building. This module holds its settings and its pipeline; the
work is done in :mod:`~trackcore.refinement.helix` (the helix model, its fits and the robust search),
:mod:`~trackcore.refinement.steps` (clean, merge, extend, fill holes, the quality and crowd cuts),
:mod:`~trackcore.refinement.finder` (recover, regroup and the search off the beam line),
:mod:`~trackcore.refinement.triplets` (the triplet-seeded search off the beam line) and
:mod:`~trackcore.refinement.quality` (the learned cut); all but clean, merge and extend are off by default.

Candidates left with fewer than ``min_hits`` hits are dropped. Shared hits (a hit in several
candidates) are kept as they are; only hits in no candidate are extended into candidates.

The default tolerances (0.15 mm, 0.5 mm) suit pixel hits of pT >~ 1 GeV particles: a pure candidate's
residuals lie within them, while candidates mixing two particles miss by far more in ``(r, z)``. Strip
hits, measured only across the strip, would need the strip length as tolerance along it: only candidates
made of hits of ``volumes`` (the pixel volumes by default) are refined, the others pass unchanged. What
each step does, why, and its measured effect: ``docs/refinement.md``.

Usage::

    from trackcore.refinement.refine import HelixRefinement
    refined = HelixRefinement()(candidates, event.pos, event.hit_id)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.checks import check_count, check_hit_id, check_nonnegative, check_positive, check_positive_tuple
from trackcore.refinement import steps
from trackcore.refinement.finder import Accept, DisplacedSearch, HelixFinder, SearchMemo
from trackcore.refinement.helix import HelixCheck, HelixFits, fit_helices, flatten
from trackcore.refinement.quality import QualityModel, learned_judge, model_file
from trackcore.refinement.triplets import TripletSearch

__all__ = ["DisplacedSearch", "HelixFits", "HelixRefinement", "fit_helices"]


def as_candidates(tracks: list[np.ndarray], ids: np.ndarray) -> TrackCandidates:
    """Index arrays into ``ids`` as candidates with consecutive track ids, in their order.

    Shapes: tracks: G arrays; ids: (N_hits,).
    """
    if not tracks:
        return TrackCandidates.empty()
    rows, label = flatten(tracks)
    return TrackCandidates(ids[rows], label.astype(np.int64, copy=False))


@dataclass(frozen=True)
class HelixRefinement:
    """Clean, merge and extend track candidates with a helix fit; the settings of every step.

    Calling it runs, in order: 1. clean, 2. merge, 3. extend, 3b. fill holes (``fill_holes``), the quality
    cut (``max_holes``, ``min_layers``, ``short_d0``), 5. regroup (when ``groups`` are passed), 4. recover
    (``recover``) on the hits that leaves free, 4b. the search off the beam line (``displaced``) and 4c. the
    triplet-seeded one (``triplets``), each on the hits left then, each found helix judged by the quality cut
    before it takes its hits (and, with ``quality_model``, the learned cut: with the quality cut and in each
    judgement), then the crowd cut (``crowd_d0``). Candidates with a hit outside ``volumes`` skip the helix
    steps, and only the cuts judge them.

    Args:
        tol_xy: largest transverse residual of a hit on a helix (mm).
        tol_rz: largest ``(r, z)`` residual (mm).
        min_hits: candidates smaller than this are dropped (and never formed).
        clean, merge, extend: which steps run.
        merge_window: ``(azimuth rad, pseudorapidity, z0 mm)`` half-widths within which two
            candidates' parameters must lie to be tried for a merge.
        extend_radius, extend_neighbors: an unassigned hit is tried on the candidates of its
            ``extend_neighbors`` nearest candidate hits within ``extend_radius`` (mm).
        max_triples: triples tried per candidate by the robust search (a seeded sample beyond).
        recover: whether free hits are searched for helices of their own (step 4).
        recover_neighbors: free hits searched around each free hit (including it), in steps 4 and 5.
        recover_window: ``(azimuth rad, pseudorapidity)`` seen from the origin, within which free
            hits are neighbours.
        max_d0: largest transverse impact parameter of a recovered or regrouped candidate (mm).
        displaced: the search for helices off the beam line (step 4b, after recover, on the hits it leaves
            free; a :class:`~trackcore.refinement.finder.DisplacedSearch` or a mapping of its settings;
            None: no such search).
        triplets: the triplet-seeded search off the beam line (step 4c, on the hits step 4b leaves free; a
            :class:`~trackcore.refinement.triplets.TripletSearch` or a mapping of its settings; None: none).
        recover_min_layers: smallest number of distinct layers of a recovered candidate (None: the
            quality cut's alone). The geometric search on a dense event's free hits makes many
            3-layer helices of hits of several particles; a model's candidates may keep 3 layers.
        max_eta: largest ``|pseudorapidity|`` of a helix's ``(r, z)`` line. Hits of several
            particles on one barrel layer lie on a circle about the beam line (exactly so in the
            simulated presets' cylindrical layers) and on a line of constant ``r``: a "helix" with
            a huge ``|eta|`` that the robust search prefers, being larger than any one track in a
            dense jet. Particles stay well below 6 (the pixel acceptance is ``|eta|`` ~ 4), so 6
            rejects only such layer "helices" (measured in ``docs/refinement.md``).
        max_clean_hits: larger candidates that do not fit one helix are released, not searched
            (a pixel track has ~4-15 hits; the search costs ``max_triples x hits`` per track it finds).
        seed: of that sample.
        volumes: the volumes whose hits the helix model judges (default: the TrackML pixel volumes,
            which the simulated presets and the ACTS generic detector share); candidates with a hit
            elsewhere pass unchanged. None judges every hit.
        fill_holes: whether holes are filled with free hits (step 3b).
        fill_tolerance: ``(transverse, (r, z))`` largest residuals (mm) of a filling hit on the
            beam-constrained helix.
        max_holes: the quality cut's largest number of holes (None: no such cut).
        span_holes_from: candidates with at least this many hits count, in the quality cut, only
            the holes within the radial span of their hits: a particle that ends (an interaction, a
            decay, a gap) leaves no hit beyond its last one. Shorter candidates count every crossed
            layer (on full events the fakes are 3-4-hit pieces of soft particles, whose missing
            hits beyond them give them away). None: every candidate counts every crossed layer.
        min_layers: the quality cut's smallest number of distinct layers (None: no such cut). The
            extend step (3) tries free hits on candidates on fewer layers along their circle through the
            beam line: two of three hits on overlapping modules of one layer fix no curvature, and without
            more hits such a candidate is cut.
        hole_margin: how far inside a layer's sensitive area the helix must cross it for a
            missing hit to count as a hole (mm).
        hole_volumes: the volumes whose layers holes are counted on (None: every TrackML layer,
            strips included). The quality cut judges every candidate whose hits all lie in them,
            also those that the helix steps leave aside: with None, candidates holding strip hits
            (on ACTS full-detector events, where the fakes are strip-only pieces of tracks).
        short_d0: ``(layers, mm)``: in the quality cut, candidates on at most ``layers`` distinct layers
            must pass within ``mm`` of the beam line (None: no such cut). At TrackML density most fakes
            are 3-layer candidates, far more often off the beam line than the 3-layer candidates that
            match a particle (measured in ``docs/refinement.md``).
        crowd_d0: the crowd cut's largest transverse impact parameter (mm) of a candidate with
            another hit near one of its hits (None: no such cut).
        crowd_radius: how near (3D distance, mm) a hit the candidate does not hold makes a crowd.
        join_passes: after the refinement and a model's second passes
            (:meth:`~trackcore.train.module.TrackingModule.add_second_pass`), :meth:`join` all their candidates
            (the model's, the searches', each pass's): a particle split between them (e.g. its hits on a
            layer's overlapping modules in two candidates of half its hits each) is merged, and free hits
            are tried on the merged candidates again (default ``False``).
        quality_model: a saved :class:`~trackcore.refinement.quality.QualityModel` (``trackcore quality fit``):
            the learned cut, applied with the quality cut (the candidates before the searches, each helix they
            find before it takes its hits), drops candidates it judges fakes with a probability above
            ``max_fake_prob`` (None: no learned cut).
    """

    tol_xy: float = 0.15
    tol_rz: float = 0.5
    min_hits: int = 3
    clean: bool = True
    merge: bool = True
    extend: bool = True
    merge_window: tuple[float, float, float] = (0.1, 0.1, 30.0)
    extend_radius: float = 200.0
    extend_neighbors: int = 32
    max_triples: int = 2000
    max_clean_hits: int = 60
    recover: bool = False
    recover_neighbors: int = 16
    recover_window: tuple[float, float] = (0.06, 0.6)
    max_d0: float = 2.0
    recover_min_layers: int | None = None
    # str: the command line's null (jsonargparse passes a nested override of these as the string 'None')
    displaced: Mapping[str, Any] | DisplacedSearch | str | None = None
    triplets: Mapping[str, Any] | TripletSearch | str | None = None
    max_eta: float = 6.0
    seed: int = 0
    volumes: tuple[int, ...] | None = (7, 8, 9)
    fill_holes: bool = False
    fill_tolerance: tuple[float, float] = (0.3, 1.0)
    max_holes: int | None = None
    span_holes_from: int | None = None
    min_layers: int | None = None
    hole_margin: float = 1.0
    hole_volumes: tuple[int, ...] | None = (7, 8, 9)
    short_d0: tuple[int, float] | None = None
    crowd_d0: float | None = None
    crowd_radius: float = 3.0
    quality_model: str | None = None
    max_fake_prob: float = 0.5
    join_passes: bool = False

    def __post_init__(self) -> None:
        check_positive("tol_xy", self.tol_xy)
        check_positive("tol_rz", self.tol_rz)
        check_count("min_hits", self.min_hits, minimum=3)
        check_count("max_triples", self.max_triples, minimum=1)
        check_count("max_clean_hits", self.max_clean_hits, minimum=self.min_hits)
        check_positive("extend_radius", self.extend_radius)
        check_count("extend_neighbors", self.extend_neighbors, minimum=1)
        check_count("recover_neighbors", self.recover_neighbors, minimum=3)
        check_positive("max_d0", self.max_d0)
        check_positive("max_eta", self.max_eta)
        for name, parts in (("recover_window", ("azimuth", "pseudorapidity")),
                            ("merge_window", ("azimuth", "pseudorapidity", "z0")),
                            ("fill_tolerance", ("transverse", "(r, z)"))):
            object.__setattr__(self, name, check_positive_tuple(name, getattr(self, name), parts))
        if self.max_holes is not None:
            check_count("max_holes", self.max_holes, minimum=0)
        if self.span_holes_from is not None:
            check_count("span_holes_from", self.span_holes_from, minimum=self.min_hits)
        if self.min_layers is not None:
            check_count("min_layers", self.min_layers, minimum=1)
        if self.recover_min_layers is not None:
            check_count("recover_min_layers", self.recover_min_layers, minimum=1)
        object.__setattr__(self, "displaced", DisplacedSearch.of(self.displaced))
        object.__setattr__(self, "triplets", TripletSearch.of(self.triplets))
        if self.short_d0 is not None:
            if not (isinstance(self.short_d0, tuple | list) and len(self.short_d0) == 2):
                raise ValueError(f"short_d0 must be (layers, mm) or None (got {self.short_d0!r})")
            object.__setattr__(self, "short_d0", (check_count("short_d0 layers", self.short_d0[0], minimum=1),
                                                  check_positive("short_d0 mm", self.short_d0[1])))
        if self.crowd_d0 is not None:
            check_positive("crowd_d0", self.crowd_d0)
        check_positive("crowd_radius", self.crowd_radius)
        if not 0.0 < self.max_fake_prob <= 1.0:
            raise ValueError(f"max_fake_prob must lie in (0, 1] (got {self.max_fake_prob!r})")
        object.__setattr__(self, "quality_model", model_file(self.quality_model))
        if self.quality_model is not None:
            QualityModel.load(self.quality_model)  # a missing or wrong file is named now, not mid-run
        check_nonnegative("hole_margin", self.hole_margin)
        if self.hole_volumes is not None:
            if not len(self.hole_volumes):
                raise ValueError("hole_volumes must be None (every layer) or name at least one volume (got ())")
            object.__setattr__(self, "hole_volumes", tuple(int(v) for v in self.hole_volumes))
        if self.volumes is not None:
            if not len(self.volumes):
                raise ValueError("volumes must be None (every hit) or name at least one volume (got ())")
            object.__setattr__(self, "volumes", tuple(int(v) for v in self.volumes))

    # ------------------------------------------------------------------ the pipeline
    def __call__(
        self,
        candidates: TrackCandidates,
        pos: Any,
        hit_id: Any | None = None,
        volume_id: Any | None = None,
        groups: TrackCandidates | None = None,
        layer_id: Any | None = None,
        taken: Any | None = None,
        memo: SearchMemo | None = None,
    ) -> TrackCandidates:
        """Refined candidates (new consecutive track ids).

        Args:
            candidates: any builder's output.
            pos: hit positions ``x, y, z`` in mm, in the order of ``hit_id``.
            hit_id: TrackML hit ids; the hit index when None.
            volume_id: TrackML volume of each hit. With ``volumes`` set, candidates holding a hit
                of another volume pass unchanged and only hits of ``volumes`` are extended; None
                judges every hit.
            groups: hits a model holds may share a track (a hit may be in several groups), as
                ``(hit_id, group id)`` rows; given, step 5 (regroup) runs.
            layer_id: TrackML layer of each hit; with ``volume_id``, needed by ``fill_holes``,
                ``max_holes`` and ``min_layers``.
            taken: hits that other tracks hold (e.g. a first building pass's): no step adds them to
                a candidate (None: every hit may join).
            memo: a dict that the refinements of one event share (e.g. a model's building passes): the
                searches of steps 4, 4b, 4c and 5 reuse the results of neighbourhoods searched before, the
                triplet search the triplets seeded before, the learned cuts the event's crowding (the same
                candidates, less work). Never share one between events, or between refinements of other
                settings (the results depend on the tolerances).

        Shapes:
            pos: (N_hits, 3); hit_id, volume_id, layer_id, taken: (N_hits,).

        Raises:
            ValueError: ``pos`` not ``(N, 3)`` or not finite, a candidate hit that is not in
                ``hit_id``, hole settings without ``volume_id`` and ``layer_id``, or a hit of
                ``hole_volumes`` on a layer the TrackML detector does not have.
        """
        p, ids, tracks, judged = self._inputs(candidates, pos, hit_id, volume_id)
        joinable = judged  # hits the steps may add to candidates
        if taken is not None:
            taken = as_numpy(taken).astype(bool, copy=False)
            if taken.shape != (len(p),):
                raise ValueError(f"Expected one 'taken' flag per hit: {len(p)} (got shape {tuple(taken.shape)})")
            joinable = judged & ~taken
        layer = None
        if self.fill_holes or self.has_quality_cut or self.displaced is not None or self.triplets is not None or (
                self.recover and self.recover_min_layers is not None):
            layer = steps.hit_layers(len(p), volume_id, layer_id, self.hole_volumes)
        # the learned cuts' layers and crowding of this event, computed once (for all of its refinements with a memo)
        own = None if self.triplets is None else self.triplets.quality_model
        learns = self.quality_model is not None or own is not None
        judges: dict = memo.setdefault(b"learned judges", {}) if memo is not None and learns else {}
        learned = None if self.quality_model is None else learned_judge(
            QualityModel.load(self.quality_model), self.max_fake_prob, p, volume_id, layer_id, judges)
        aside = [t for t in tracks if not judged[t].all()]  # e.g. tracks with strip hits: not judged
        tracks = [t for t in tracks if judged[t].all()]
        check = self.check
        if self.clean:
            tracks = steps.clean(tracks, p, check, self.min_hits, self.max_clean_hits)
        else:
            tracks = [t for t in tracks if len(t) >= self.min_hits]
        if self.merge and len(tracks) > 1:
            tracks = steps.merge(tracks, p, check, self.merge_window)
        if self.extend and tracks:
            short = None
            if self.min_layers is not None:  # dropped by the quality cut unless extended: along a prompt circle
                assert layer is not None
                short = steps.layer_counts(tracks, layer) < self.min_layers
            tracks = steps.extend(tracks, p, steps.free_hits(tracks + aside, joinable), check, self.extend_radius,
                                  self.extend_neighbors, through_beam=short)
        if self.fill_holes and tracks:
            assert layer is not None
            tracks = steps.fill_holes(tracks, p, steps.free_hits(tracks + aside, joinable), layer, check,
                                      self.fill_tolerance, self.hole_margin)
        # the quality cut, before the searches: the hits of the candidates it drops are searched too
        tracks, aside = self._quality_cut(tracks, p, layer, learned), self._quality_cut(aside, p, layer, learned)
        if groups is not None:
            try:
                group_lists = groups.index_lists(ids)[1]
            except ValueError as err:
                raise ValueError(f"groups: {err}") from None
            tracks += self.finder.regroup(p, steps.free_hits(tracks + aside, joinable), group_lists,
                                          self.accept_rule(p, layer, None, learned=learned), memo)
        if self.recover:
            tracks += self.finder.recover(p, steps.free_hits(tracks + aside, joinable),
                                          self.accept_rule(p, layer, self.recover_min_layers, learned=learned), memo)
        if self.displaced is not None:
            finder = self.displaced.finder(self.check, self.min_hits, self.max_clean_hits)
            tracks += finder.recover(p, steps.free_hits(tracks + aside, joinable),
                                     self.accept_rule(p, layer, self.displaced.min_layers, short_d0=False,
                                                  learned=learned), memo)
        if self.triplets is not None:
            search, own = self.triplets, self.triplets.quality_model
            judge = learned if own is None else learned_judge(QualityModel.load(own), search.max_fake_prob, p,
                                                              volume_id, layer_id, judges)
            tracks += search.find(p, steps.free_hits(tracks + aside, joinable), layer, self.check, self.min_hits,
                                  self.max_clean_hits, self.accept_rule(p, layer, None, short_d0=False, learned=judge),
                                  memo)
        tracks += aside
        if self.crowd_d0 is not None and tracks:
            tracks = steps.crowd_cut(tracks, p, judged, self.crowd_d0, self.crowd_radius)
        return as_candidates(tracks, ids)

    def join(self, candidates: TrackCandidates, pos: Any, hit_id: Any | None = None,
             volume_id: Any | None = None) -> TrackCandidates:
        """Candidates of several passes (each refined on the hits the ones before left) as one set: merged
        (step 2), free hits tried on them and merged again (with ``extend``, step 3); candidates with hits
        outside ``volumes`` pass unchanged (arguments as in :meth:`__call__`).

        Shapes:
            pos: (N_hits, 3); hit_id, volume_id: (N_hits,).

        Raises:
            ValueError: as :meth:`__call__` for ``pos`` and ``hit_id``.
        """
        p, ids, tracks, judged = self._inputs(candidates, pos, hit_id, volume_id)
        aside = [t for t in tracks if not judged[t].all()]
        tracks = [t for t in tracks if judged[t].all()]
        if len(tracks) > 1:
            tracks = steps.merge(tracks, p, self.check, self.merge_window)
            if self.extend:
                tracks = steps.extend(tracks, p, steps.free_hits(tracks + aside, judged), self.check,
                                      self.extend_radius, self.extend_neighbors)
                tracks = steps.merge(tracks, p, self.check, self.merge_window)
        return as_candidates(tracks + aside, ids)

    # ------------------------------------------------------------------ helpers
    def _inputs(self, candidates: TrackCandidates, pos: Any, hit_id: Any | None, volume_id: Any | None
                ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
        """``pos`` as float64 (checked: ``(N, 3)``, finite), the hit ids (the index when None), the candidates as
        index arrays into them and the hits the helix model judges.

        Shapes: returns (N, 3), (N,), G arrays, (N,) bool.
        """
        p = as_numpy(pos).astype(np.float64, copy=False)
        if p.ndim != 2 or p.shape[1] != 3:
            raise ValueError(f"Expected 'pos' of shape (N_hits, 3) with x, y, z (got {tuple(p.shape)})")
        if not np.isfinite(p).all():
            raise ValueError(f"'pos' holds {int((~np.isfinite(p)).sum())} NaN or infinite value(s)")
        ids = check_hit_id(hit_id, len(p))
        ids = np.arange(len(p), dtype=np.int64) if ids is None else ids
        return p, ids, candidates.index_lists(ids)[1], self.judged_hits(volume_id, len(p))

    def _quality_cut(self, tracks: list[np.ndarray], p: np.ndarray, layer: tuple | None,
                     learned: Accept | None = None) -> list[np.ndarray]:
        """The tracks that pass the quality cut (all without one), then the learned cut (where given)."""
        if tracks and self.has_quality_cut:
            assert layer is not None
            tracks = steps.quality_cut(tracks, p, layer, self.hole_margin, self.max_holes, self.min_layers,
                                       self.span_holes_from, self.short_d0)
        if tracks and learned is not None:
            tracks = [t for t, k in zip(tracks, learned(tracks), strict=True) if k]
        return tracks

    def judged_hits(self, volume_id: Any, n_hits: int) -> np.ndarray:
        """Which hits the helix steps judge and may add to candidates: those of ``volumes`` (every hit when
        ``volumes`` or ``volume_id`` is None).

        Shapes: volume_id: (N_hits,); returns (N_hits,) bool.

        Raises:
            ValueError: ``volume_id`` not one per hit.
        """
        if self.volumes is None or volume_id is None:
            return np.ones(n_hits, bool)
        vol = as_numpy(volume_id)
        if vol.shape != (n_hits,):
            raise ValueError(f"Expected one 'volume_id' per hit: {n_hits} (got shape {tuple(vol.shape)})")
        return np.isin(vol, self.volumes)

    def accept_rule(self, p: np.ndarray, layer: tuple | None, min_layers: int | None, short_d0: bool = True,
                    learned: Accept | None = None) -> Accept | None:
        """The rule a found helix must pass before it takes its hits: the quality cut (where set; without
        its ``short_d0`` rule when ``short_d0`` is False: the displaced search's helices are off the beam
        line), ``min_layers`` distinct layers (None: no layer rule of its own) and the learned cut (where
        given). A helix the cuts would drop later would hold hits that a smaller, good helix needs."""
        cut = self.has_quality_cut
        near_beam = self.short_d0 if short_d0 else None
        if not cut and min_layers is None and learned is None:
            return None

        def accept(tracks: list[np.ndarray]) -> np.ndarray:
            ok = np.ones(len(tracks), bool)
            if min_layers is not None:
                assert layer is not None
                ok &= steps.layer_counts(tracks, layer) >= min_layers
            if cut:
                assert layer is not None
                ok &= steps.quality_mask(tracks, p, layer, self.hole_margin, self.max_holes, self.min_layers,
                                         self.span_holes_from, near_beam)
            if learned is not None and ok.any():
                ok[ok] = learned([t for t, k in zip(tracks, ok, strict=True) if k])
            return ok

        return accept

    @property
    def has_quality_cut(self) -> bool:
        """Whether any of the quality cut's settings (``max_holes``, ``min_layers``, ``short_d0``) is set."""
        return self.max_holes is not None or self.min_layers is not None or self.short_d0 is not None

    @property
    def check(self) -> HelixCheck:
        """The helix tolerances, the pseudorapidity limit and the robust search's triples, as the steps take them."""
        return HelixCheck(self.tol_xy, self.tol_rz, self.max_eta, self.max_triples, self.seed)

    @property
    def finder(self) -> HelixFinder:
        """The geometric track finder of steps 4 and 5, with these settings."""
        return HelixFinder(self.check, self.min_hits, self.recover_neighbors, self.recover_window, self.max_d0,
                           self.max_clean_hits)

    def fit_ok(self, p: np.ndarray, groups: list[np.ndarray]) -> tuple[np.ndarray, HelixFits]:
        """Whether each group of hits lies on its least-squares helix within the tolerances, and the fits
        (:meth:`HelixCheck.fit_ok`).

        Shapes:
            p: (N_hits, 3) float64; groups: G index arrays into ``p`` (>= 3 each); returns (G,) bool.
        """
        return self.check.fit_ok(p, groups)

    def inliers(self, p: np.ndarray) -> np.ndarray:
        """The largest set of points on one helix through three of them (:meth:`HelixCheck.inliers`).

        Shapes:
            p: (n, 3) float64 with n >= 3; returns (n,) bool.
        """
        return self.check.inliers(p)

    def best_helices(self, p: np.ndarray, triples: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """For each of several point sets, the points on its best helix through one of ``triples``
        (:meth:`HelixCheck.best_helices`).

        Shapes:
            p: (B, n, 3) float64; triples: (T, 3) indices into n; valid: (B, n) bool; returns (B, n) bool.
        """
        return self.check.best_helices(p, triples, valid)
