"""Helix-fit refinement of track candidates: clean, merge and extend any builder's tracks.

Every builder (CC and walk, DBSCAN, condensation points, bipartite assignment) decides from
learned scores alone, so its mistakes are geometric nonsense that a track fit sees at once: a
stray hit of another particle, or one particle cut in two pieces (the double-majority metric
then counts the piece as a fake and, if it holds half the hits, loses the particle). The
production trackers (the ACTS CKF) never keep such tracks because every hit passes a fit. This
module gives every family the same check, after building:

1. **Clean.** A candidate whose hits do not all lie on one helix (within the tolerances) keeps
   its largest helix-consistent subset, found by a robust search over the helices through hit
   triples (all triples up to ``max_triples``, a seeded sample beyond). A candidate of more than
   ``max_clean_hits`` hits that does not fit is not searched (that would be a track finder run on a
   blob, e.g. the whole event that an untrained model's clustering returns) but released. The rest, if it has
   ``>= min_hits`` hits, is tried as a candidate of its own; otherwise its hits are released.
2. **Merge.** Candidates with nearby track parameters (azimuth of the mean hit, pseudorapidity
   and ``z0`` of the fitted line, within ``merge_window``) whose union lies on one helix become
   one candidate (pieces of one particle). Pairs are tried nearest first.
3. **Extend.** A hit in no candidate, within ``extend_radius`` of some hit of a candidate and on
   that candidate's helix, joins it (the nearest-fitting candidate if several); the candidate
   must still fit as a whole.
3b. **Fill holes** (off by default, ``fill_holes=True``; needs the hits' ``volume_id`` and
   ``layer_id``). A hole is a layer of the judged volumes that the candidate's helix crosses (by
   ``hole_margin`` inside its sensitive area) where the candidate has no hit
   (:mod:`trackcore.refinement.holes`). Each hole takes the free hit of that layer nearest the
   candidate's beam-constrained helix (the fit with a point on the beam line added, which a
   3-hit piece needs to extrapolate), within ``fill_tolerance``, if the candidate still fits. On
   ACTS ttbar mu = 20 pixel events after EC (validation) it lifts the DM efficiency from 98.4% to
   98.5% and cuts the fakes from 19 to 16: the fakes are mostly pieces of a particle whose missing
   layers' hits lie free.
4. **Recover** (off by default, ``recover=True``). Hits still in no candidate are searched for
   helices of their own: each such hit and its ``recover_neighbors - 1`` nearest free hits in
   the direction seen from the origin (azimuth and pseudorapidity, within ``recover_window``)
   give the best helix through that hit (the robust search, on the triples that contain it);
   helices through the beam line (transverse impact parameter ``d0 <= max_d0``, which assumes
   prompt particles) become candidates, largest first, each hit in one. After a model it
   rebuilds the short particles a builder scattered as strays of other candidates (on real
   pT > 1 GeV validation events, 188 of HGNN's 237 missed particles). **But given no candidates
   it is a geometric track finder, and on the pT > 1 GeV benchmarks (softer particles' hits
   removed using the truth) it alone finds 97.5% of the real test particles with 0.1% fakes
   (``benchmarks/geometric_baseline.py``)**: a model's numbers with this step on would measure the
   geometry more than the model, so no shipped model config turns it on.

5. **Regroup** (only when the caller passes ``groups``: which hits a model holds may share a
   track, e.g. each hit's top-3 HGNN super-nodes). Hits in no candidate are searched for helices
   as in step 4, but each free hit only among the free hits that share a group with it (nearest
   first, up to ``recover_neighbors``), so it can only rebuild what the model grouped: a model's
   second choices for the hits its first choice lost. Groups of more than ``max_clean_hits`` free
   hits are blobs and not searched. Control (real pT > 1 GeV validation events): after a trained
   HGNN it takes the DM efficiency from 95.0% to 97.9%; after the same HGNN untrained, from 31% to
   37% (step 4 alone, from no candidates: 97%).

**Quality cut** (off by default: ``max_holes``, ``min_layers``). At the end, candidates made of
hits of ``hole_volumes`` (default the pixels, as ``volumes``) with more than ``max_holes`` holes or
fewer than ``min_layers`` distinct layers are dropped, as the ACTS CKF drops tracks with too many
holes or measurements. A fake is usually a piece of a particle (its other hits on the helix's
remaining layers) or a few hits on one or two layers, whose helix is barely constrained; so
``max_holes=0, min_layers=3`` after filling keeps the complete candidates (ACTS ttbar mu = 20
validation, after EC: fakes 16 -> 2 of ~2,400, DM 98.5% -> 95.0%).

**Crowd cut** (off by default: ``crowd_d0``). Last, a candidate whose helix (fitted to its hits
of ``volumes``, when it has >= 3) passes more than ``crowd_d0`` from the beam line and one of whose
hits has a hit it does not hold within ``crowd_radius`` (3D) is dropped. Pixel hits alone cannot
tell a displaced particle in a jet from two crossing particles whose hits, half and half, lie on
one helix; such a mixture does not point back to the beam line, and it only forms where other hits
are near. So, in a crowd, a displaced helix is dropped (the ACTS CKF too only seeds helices with
``d0 < 3`` mm and keeps tracks with ``|d0| < 4`` mm, and reads the strips to resolve the rest). On ACTS
ttbar mu = 20 pixel events after EC (96 training and 12 validation events) ``crowd_d0=0.2,
crowd_radius=3`` drops all 10 fakes that the quality cut leaves, for 1.6 points of DM efficiency
(95.0% -> 93.4% on the training events).

Candidates left with fewer than ``min_hits`` hits are dropped. Shared hits (a hit in several
candidates) are kept as they are; only hits in no candidate are extended into candidates.

**The helix model.** A circle in the transverse plane and a straight line in ``(r, z)``,
``r = sqrt(x^2 + y^2)``. Along a helix from the beam line ``z`` is linear in the transverse arc
length ``s = 2R asin(r / 2R)``, not in ``r``; perpendicular to the line the difference is at
most ``r^3 / 24R^2`` (0.09 mm at r = 180 mm, the end of a pixel detector, for pT = 1 GeV in 2 T),
and the fitted line absorbs most of it. The ``(s, z)`` line was tried and is worse: it needs the circle's radius, and a
wrong circle through hits of two particles then bends the line to fit them (on real pT > 1 GeV
events, the robust search kept 39 mixed subsets instead of 4). Residuals are geometric
distances: ``|distance to the centre - R|`` in ``(x, y)`` and the perpendicular distance to the
line in ``(r, z)`` (so very forward tracks, almost parallel to ``z``, are judged by their radial
miss and not by a huge ``z`` miss). The fits are the algebraic (Kasa) circle and the
total-least-squares line; the robust search takes the circle through three hits and the line
through the two of them farthest apart in ``(r, z)``. Positions are in mm as the
TrackML tables give them. The default tolerances (0.15 mm, 0.5 mm) suit pixel hits of pT >~ 1
GeV particles: on ACTS ttbar pixel events 99% of pure candidates have all residuals below 0.2 mm
in ``(x, y)`` and 1 mm in ``(r, z)`` (the least-squares fit of a contaminated candidate is pulled,
so its inliers are found by the robust search), while candidates mixing two particles have median
``(r, z)`` misses of ~9 mm. On the validation events of five trained models (real pT > 1 GeV pixel
events and ACTS ttbar), tolerances from (0.1, 0.4) to (0.3, 1.0) mm gave DM efficiencies within
0.5 points of each other; wider ones (1, 3) mm kept more fakes. Strip hits, measured only across
the strip, would need the strip length as tolerance along it, which this model does not have: so
only candidates made of hits of ``volumes`` (the pixel volumes by default) are refined, and the
others pass unchanged (on ACTS full-detector events judging every hit raised EC's fake rate from
1.2% to 17.7%).

Usage::

    from trackcore.refinement.refine import HelixRefinement
    refined = HelixRefinement()(candidates, event.pos, event.hit_id)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.checks import check_count, check_hit_id, check_positive
from trackcore.refinement.holes import LayerTable

_TRIPLES: dict[int, np.ndarray] = {}


def _all_triples(n: int) -> np.ndarray:
    """Every 3-subset of ``range(n)`` as rows (cached per n)."""
    if n not in _TRIPLES:
        _TRIPLES[n] = np.array(list(itertools.combinations(range(n), 3)), dtype=np.int64).reshape(-1, 3)
    return _TRIPLES[n]


def _triples_through_first(n: int) -> np.ndarray:
    """Every 3-subset of ``range(n)`` that contains 0, as rows (cached per n)."""
    key = -n
    if key not in _TRIPLES:
        pairs = np.array(list(itertools.combinations(range(1, n), 2)), dtype=np.int64).reshape(-1, 2)
        _TRIPLES[key] = np.concatenate([np.zeros((len(pairs), 1), np.int64), pairs], 1)
    return _TRIPLES[key]


@dataclass(frozen=True)
class HelixFits:
    """Least-squares helices of several hit groups (circle + ``(r, z)`` line), one row per group.

    The circle is kept in its algebraic form about the group's mean point ``(mx, my)``:
    ``u^2 + v^2 = a u + b v + c`` with ``u = x - mx, v = y - my`` (centre ``(a/2, b/2)``), so that
    residuals stay exact for nearly straight tracks, whose radius is huge.

    Args:
        mx, my, a, b, c: the circles; ``line`` marks exactly collinear groups, fitted by the
            transverse line through ``(mx, my)`` with unit direction ``(lx, ly)`` instead.
        r0, z0: a point of each ``(r, z)`` line; ``ur, uz``: its unit direction.

    Shapes:
        every field: (G,) (``line`` bool, the others float64).
    """

    mx: np.ndarray
    my: np.ndarray
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    line: np.ndarray
    lx: np.ndarray
    ly: np.ndarray
    r0: np.ndarray
    z0: np.ndarray
    ur: np.ndarray
    uz: np.ndarray

    @property
    def radius(self) -> np.ndarray:
        """Transverse radius of curvature (mm; inf for collinear groups)."""
        r2 = self.c + (self.a * self.a + self.b * self.b) / 4
        return np.where(self.line, np.inf, np.sqrt(np.maximum(r2, 0.0)))

    def residuals(self, p: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Transverse and ``(r, z)`` distances of points to the helix of their group.

        Shapes:
            p: (n, 3) float64 ``x, y, z``; group: (n,) int64 in ``[0, G)``; returns two (n,) arrays.
        """
        u, v = p[:, 0] - self.mx[group], p[:, 1] - self.my[group]
        a, b = self.a[group], self.b[group]
        # |d - R| = |d^2 - R^2| / (d + R), with d^2 - R^2 = u^2 + v^2 - a u - b v - c: no large terms cancel
        radius = self.radius[group]
        dist = np.hypot(u - a / 2, v - b / 2)
        with np.errstate(invalid="ignore"):
            circle = np.abs(u * u + v * v - a * u - b * v - self.c[group]) / (dist + radius)
        dxy = np.where(self.line[group], np.abs(u * self.ly[group] - v * self.lx[group]), circle)
        r = np.hypot(p[:, 0], p[:, 1])
        drz = np.abs((r - self.r0[group]) * self.uz[group] - (p[:, 2] - self.z0[group]) * self.ur[group])
        return dxy, drz

    @property
    def z_at_beam(self) -> np.ndarray:
        """``z`` of each line at ``r = 0`` (the line's point itself for lines parallel to ``z``)."""
        steep = np.abs(self.ur) > 1e-9
        return np.where(steep, self.z0 - self.r0 * self.uz / np.where(steep, self.ur, 1.0), self.z0)

    @property
    def d0(self) -> np.ndarray:
        """Transverse distance of the beam line (``x = y = 0``) to each circle (mm)."""
        origin = np.zeros((len(self.mx), 3))
        return self.residuals(origin, np.arange(len(self.mx)))[0]

    @property
    def eta(self) -> np.ndarray:
        """Pseudorapidity of each ``(r, z)`` line, oriented outward."""
        sign = np.where(self.ur >= 0, 1.0, -1.0)
        return np.arcsinh(sign * self.uz / np.maximum(np.abs(self.ur), 1e-9))


def fit_helices(p: np.ndarray, group: np.ndarray, n_groups: int) -> HelixFits:
    """Least-squares helix of each group: algebraic (Kasa) circle in ``(x, y)``, total least squares in ``(r, z)``.

    Closed forms on per-group sums, so thousands of candidates are fitted in a few array passes.

    Shapes:
        p: (n, 3) float64; group: (n,) int64 in ``[0, n_groups)``, every group with >= 2 points.
    """
    def total(w: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=w, minlength=n_groups)

    count = np.bincount(group, minlength=n_groups).astype(np.float64)
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    mx, my = total(x) / count, total(y) / count
    xc, yc = x - mx[group], y - my[group]
    sxx, sxy, syy = total(xc * xc), total(xc * yc), total(yc * yc)
    w = xc * xc + yc * yc
    bx, by, c = total(xc * w), total(yc * w), total(w) / count
    det = sxx * syy - sxy * sxy
    line = ~(det > 1e-12 * np.maximum(sxx * syy, 1e-300))
    safe = np.where(line, 1.0, det)
    a = np.where(line, 0.0, (bx * syy - by * sxy) / safe)  # u^2 + v^2 = a u + b v + c (centred)
    b = np.where(line, 0.0, (by * sxx - bx * sxy) / safe)
    angle_xy = 0.5 * np.arctan2(2 * sxy, sxx - syy)  # principal direction, for collinear groups
    r = np.hypot(x, y)
    mr, mz = total(r) / count, total(z) / count
    rc, zc = r - mr[group], z - mz[group]
    angle = 0.5 * np.arctan2(2 * total(rc * zc), total(rc * rc) - total(zc * zc))
    return HelixFits(mx=mx, my=my, a=a, b=b, c=c, line=line, lx=np.cos(angle_xy), ly=np.sin(angle_xy),
                     r0=mr, z0=mz, ur=np.cos(angle), uz=np.sin(angle))


def _flatten(tracks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The hit indices of several index arrays, concatenated, and each one's array number.

    Shapes:
        tracks: G index arrays; returns two (sum of their lengths,) int arrays.
    """
    return np.concatenate(tracks), np.repeat(np.arange(len(tracks)), [len(t) for t in tracks])


def best_per_layer(
    track: np.ndarray, hit: np.ndarray, score: np.ndarray, layer_of_hit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Resolve candidate (track, hit) pairs: each hit goes to its best-scoring (lowest) track, then
    each track keeps its best hit per layer. Returned sorted by track, then layer.

    Shapes:
        track, hit, score: (P,) pairs; layer_of_hit: (N_hits,) a layer key per hit; returns two (Q,) arrays.
    """
    order = np.lexsort((score, hit))  # each hit: its best-fitting track
    track, hit, score = track[order], hit[order], score[order]
    first = np.r_[True, hit[1:] != hit[:-1]]
    track, hit, score = track[first], hit[first], score[first]
    layer = layer_of_hit[hit]
    order = np.lexsort((score, layer, track))  # each (track, layer): its best-fitting hit
    track, hit, layer = track[order], hit[order], layer[order]
    first = np.r_[True, (track[1:] != track[:-1]) | (layer[1:] != layer[:-1])]
    return track[first], hit[first]


def beam_constrained_fits(p: np.ndarray, tracks: list[np.ndarray], fits: HelixFits) -> HelixFits:
    """Each track's helix refitted with one more point on the beam line, ``(0, 0, z)`` with ``z``
    where its fitted ``(r, z)`` line meets ``r = 0``: a prompt particle's circle passes the beam line,
    so short tracks (3 hits, two of them on one layer's overlapping modules) extrapolate far better.

    Shapes:
        p: (N_hits, 3) float64; tracks: G index arrays; fits: their :func:`fit_helices`.
    """
    rows, group = _flatten(tracks)
    beam = np.stack([np.zeros(len(tracks)), np.zeros(len(tracks)), fits.z_at_beam], 1)
    return fit_helices(np.vstack([p[rows], beam]), np.r_[group, np.arange(len(tracks))], len(tracks))


def _positive_tuple(name: str, value: Any, parts: tuple[str, ...]) -> tuple[float, ...]:
    """``value`` as a tuple of floats, one positive value per named part (errors name the part)."""
    values = tuple(value)
    if len(values) != len(parts):
        raise ValueError(f"{name} must be ({', '.join(parts)}) (got {value!r})")
    for part, v in zip(parts, values, strict=True):
        check_positive(f"{name} {part}", v)
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class HelixRefinement:
    """Clean, merge and extend track candidates with a helix fit (see the module docstring).

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
        max_eta: largest ``|pseudorapidity|`` of a helix's ``(r, z)`` line. Hits of several
            particles on one barrel layer lie on a circle about the beam line (exactly so in the
            simulated presets' cylindrical layers) and on a line of constant ``r``: a "helix" with
            ``|eta|`` ~ 16-20 that the robust search prefers, being larger than any one track in a
            dense jet (EggNet small test: 2.9% fakes instead of 0.4%). True particles reach 5.2
            (the pixel acceptance is ~4), so 6 rejects only such layer "helices".
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
        min_layers: the quality cut's smallest number of distinct layers (None: no such cut).
        hole_margin: how far inside a layer's sensitive area the helix must cross it for a
            missing hit to count as a hole (mm).
        hole_volumes: the volumes whose layers holes are counted on (None: every TrackML layer,
            strips included). The quality cut judges every candidate whose hits all lie in them,
            also those that the helix steps leave aside: with None, candidates holding strip hits
            (on ACTS full-detector events, where the fakes are strip-only pieces of tracks).
        crowd_d0: the crowd cut's largest transverse impact parameter (mm) of a candidate with
            another hit near one of its hits (None: no such cut).
        crowd_radius: how near (3D distance, mm) a hit the candidate does not hold makes a crowd.
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
    max_eta: float = 6.0
    seed: int = 0
    volumes: tuple[int, ...] | None = (7, 8, 9)
    fill_holes: bool = False
    fill_tolerance: tuple[float, float] = (0.3, 1.0)
    max_holes: int | None = None
    min_layers: int | None = None
    hole_margin: float = 1.0
    hole_volumes: tuple[int, ...] | None = (7, 8, 9)
    crowd_d0: float | None = None
    crowd_radius: float = 3.0

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
            object.__setattr__(self, name, _positive_tuple(name, getattr(self, name), parts))
        if self.max_holes is not None:
            check_count("max_holes", self.max_holes, minimum=0)
        if self.min_layers is not None:
            check_count("min_layers", self.min_layers, minimum=1)
        if self.crowd_d0 is not None:
            check_positive("crowd_d0", self.crowd_d0)
        check_positive("crowd_radius", self.crowd_radius)
        if not (isinstance(self.hole_margin, int | float) and np.isfinite(self.hole_margin) and self.hole_margin >= 0):
            raise ValueError(f"hole_margin must be a finite length >= 0 in mm (got {self.hole_margin!r})")
        if self.hole_volumes is not None:
            if not len(self.hole_volumes):
                raise ValueError("hole_volumes must be None (every layer) or name at least one volume (got ())")
            object.__setattr__(self, "hole_volumes", tuple(int(v) for v in self.hole_volumes))
        if self.volumes is not None:
            if not len(self.volumes):
                raise ValueError("volumes must be None (every hit) or name at least one volume (got ())")
            object.__setattr__(self, "volumes", tuple(int(v) for v in self.volumes))

    # ------------------------------------------------------------------ the one entry point
    def __call__(
        self,
        candidates: TrackCandidates,
        pos: Any,
        hit_id: Any | None = None,
        volume_id: Any | None = None,
        groups: TrackCandidates | None = None,
        layer_id: Any | None = None,
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

        Shapes:
            pos: (N_hits, 3); hit_id, volume_id, layer_id: (N_hits,).

        Raises:
            ValueError: ``pos`` not ``(N, 3)`` or not finite, a candidate hit that is not in
                ``hit_id``, hole settings without ``volume_id`` and ``layer_id``, or a hit of
                ``hole_volumes`` on a layer the TrackML detector does not have.
        """
        p = as_numpy(pos).astype(np.float64, copy=False)
        if p.ndim != 2 or p.shape[1] != 3:
            raise ValueError(f"Expected 'pos' of shape (N_hits, 3) with x, y, z (got {tuple(p.shape)})")
        if not np.isfinite(p).all():
            raise ValueError(f"'pos' holds {int((~np.isfinite(p)).sum())} NaN or infinite value(s)")
        ids = check_hit_id(hit_id, len(p))
        ids = np.arange(len(p), dtype=np.int64) if ids is None else ids
        tracks = self._as_index_lists(candidates, ids)
        judged = np.ones(len(p), bool)
        if self.volumes is not None and volume_id is not None:
            vol = as_numpy(volume_id)
            if vol.shape != (len(p),):
                raise ValueError(f"Expected one 'volume_id' per hit: {len(p)} (got shape {tuple(vol.shape)})")
            judged = np.isin(vol, self.volumes)
        layer = self._layer_rows(len(p), volume_id, layer_id)
        aside = [t for t in tracks if not judged[t].all()]  # e.g. tracks with strip hits: not judged
        tracks = [t for t in tracks if judged[t].all()]
        if self.clean:
            tracks = self._clean(tracks, p)
        else:
            tracks = [t for t in tracks if len(t) >= self.min_hits]
        if self.merge and len(tracks) > 1:
            tracks = self._merge(tracks, p)
        if self.extend and tracks:
            tracks = self._extend(tracks, p, judged, aside)
        if self.fill_holes and tracks:
            tracks = self._fill_holes(tracks, p, judged, aside, layer)
        if groups is not None:
            try:
                group_lists = self._as_index_lists(groups, ids)
            except ValueError as err:
                raise ValueError(f"groups: {err}") from None
            tracks += self._regroup(tracks + aside, p, judged, group_lists)
        if self.recover:
            tracks += self._recover(tracks + aside, p, judged)
        tracks += aside
        if (self.max_holes is not None or self.min_layers is not None) and tracks:
            tracks = self._quality(tracks, p, layer)
        if self.crowd_d0 is not None and tracks:
            tracks = self._crowd(tracks, p, judged)
        if not tracks:
            return TrackCandidates.empty()
        rows = np.concatenate(tracks)
        label = np.repeat(np.arange(len(tracks), dtype=np.int64), [len(t) for t in tracks])
        return TrackCandidates(ids[rows], label)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _as_index_lists(candidates: TrackCandidates, ids: np.ndarray) -> list[np.ndarray]:
        """Each candidate's hit indices (into ``ids``), sorted, one array per track."""
        if not len(candidates):
            return []
        order = np.argsort(ids, kind="stable")
        where = np.searchsorted(ids, candidates.hit_id, sorter=order)
        where = np.minimum(where, len(ids) - 1)
        index = order[where]
        missing = ids[index] != candidates.hit_id
        if missing.any():
            raise ValueError(f"{int(missing.sum())} candidate hit(s) are not among the event's hits "
                             f"(first hit_id {int(candidates.hit_id[missing][0])})")
        by_track = np.argsort(candidates.track_id, kind="stable")
        _, starts = np.unique(candidates.track_id[by_track], return_index=True)
        return [np.sort(part) for part in np.split(index[by_track], starts[1:])]

    def fit_ok(self, p: np.ndarray, groups: list[np.ndarray]) -> tuple[np.ndarray, HelixFits]:
        """Whether each group of hits lies on its least-squares helix within the tolerances, and the fits.

        Shapes:
            p: (N_hits, 3) float64; groups: G index arrays into ``p`` (>= 3 each); returns (G,) bool.
        """
        rows, group = _flatten(groups)
        fits = fit_helices(p[rows], group, len(groups))
        dxy, drz = fits.residuals(p[rows], group)
        bad = (dxy > self.tol_xy) | (drz > self.tol_rz)
        ok = np.bincount(group, weights=bad, minlength=len(groups)) == 0
        return ok & (np.abs(fits.eta) <= self.max_eta), fits

    def inliers(self, p: np.ndarray) -> np.ndarray:
        """The largest set of points on one helix through three of them (ties: smallest residuals).

        Shapes:
            p: (n, 3) float64 with n >= 3; returns (n,) bool.
        """
        n = len(p)
        triples = _all_triples(n) if n <= 24 else None
        if triples is None or len(triples) > self.max_triples:
            rng = np.random.default_rng(self.seed)
            triples = np.sort(np.argpartition(rng.random((self.max_triples, n)), 3, axis=1)[:, :3], axis=1)
        return self.best_helices(p[None], triples, np.ones((1, n), bool))[0]

    def best_helices(self, p: np.ndarray, triples: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """For each of several point sets, the points on its best helix through one of ``triples``.

        The helix through a triple is the circle through its three points (transverse plane) and
        the ``(r, z)`` line through the two of them farthest apart; the best one holds the most
        points within the tolerances (ties: smallest summed residuals, then the first triple).

        Shapes:
            p: (B, n, 3) float64; triples: (T, 3) indices into n; valid: (B, n) bool (padding
            points are False: never counted, and triples using them are skipped); returns (B, n) bool.
        """
        x, y, z = p[..., 0], p[..., 1], p[..., 2]
        r = np.hypot(x, y)
        a, b, c = triples[:, 0], triples[:, 1], triples[:, 2]
        # circle through the three points (transverse plane): (B, T)
        ax, ay, bx, by, cx, cy = x[:, a], y[:, a], x[:, b], y[:, b], x[:, c], y[:, c]
        d = 2 * (ax * (by - cy) + bx * (cy - ay) + cx * (ay - by))
        ok = (np.abs(d) > 1e-12) & valid[:, a] & valid[:, b] & valid[:, c]
        d = np.where(ok, d, 1.0)
        a2, b2, c2 = ax * ax + ay * ay, bx * bx + by * by, cx * cx + cy * cy
        ux = (a2 * (by - cy) + b2 * (cy - ay) + c2 * (ay - by)) / d
        uy = (a2 * (cx - bx) + b2 * (ax - cx) + c2 * (bx - ax)) / d
        rad = np.hypot(ax - ux, ay - uy)
        # |d - R| = |d^2 - R^2| / (d + R), with d^2 - R^2 expanded about the first point (stable for huge R): (B, T, n)
        xs, ys = x[:, None, :], y[:, None, :]
        dist = np.hypot(xs - ux[..., None], ys - uy[..., None])
        power = ((xs - ax[..., None]) * (xs + ax[..., None] - 2 * ux[..., None])
                 + (ys - ay[..., None]) * (ys + ay[..., None] - 2 * uy[..., None]))
        dxy = np.abs(power) / (dist + rad[..., None])
        # (r, z) line through the two points of the triple farthest apart in (r, z)
        pairs = np.stack([np.stack([a, b], 1), np.stack([a, c], 1), np.stack([b, c], 1)], axis=1)  # (T, 3, 2)
        span = np.hypot(r[:, pairs[..., 1]] - r[:, pairs[..., 0]], z[:, pairs[..., 1]] - z[:, pairs[..., 0]])
        pick = span.argmax(-1)  # (B, T)
        i = pairs[np.arange(len(triples))[None], pick, 0]
        j = pairs[np.arange(len(triples))[None], pick, 1]
        length = span.max(-1)
        ok &= length > 1e-9
        length = np.where(length > 1e-9, length, 1.0)
        ri, zi = np.take_along_axis(r, i, 1), np.take_along_axis(z, i, 1)
        ur, uz = (np.take_along_axis(r, j, 1) - ri) / length, (np.take_along_axis(z, j, 1) - zi) / length
        ok &= np.abs(uz) <= np.sinh(min(self.max_eta, 700.0)) * np.abs(ur)  # |eta| <= max_eta
        drz = np.abs((r[:, None, :] - ri[..., None]) * uz[..., None] - (z[:, None, :] - zi[..., None]) * ur[..., None])
        good = (dxy <= self.tol_xy) & (drz <= self.tol_rz) & ok[..., None] & valid[:, None, :]
        count = good.sum(-1)
        cost = np.where(good, dxy / self.tol_xy + drz / self.tol_rz, 0.0).sum(-1)  # < 2n + 1
        best = np.argmin(cost - count * (2.0 * p.shape[1] + 1.0), axis=1)  # most points, then least cost
        return good[np.arange(len(p)), best]

    # ------------------------------------------------------------------ the three steps
    def _clean(self, tracks: list[np.ndarray], p: np.ndarray) -> list[np.ndarray]:
        tracks = [t for t in tracks if len(t) >= self.min_hits]
        if not tracks:
            return []
        ok, _ = self.fit_ok(p, tracks)
        out = [t for t, good in zip(tracks, ok, strict=True) if good]
        queue = [t for t, good in zip(tracks, ok, strict=True) if not good]
        while queue:
            hits = queue.pop()
            if len(hits) > self.max_clean_hits:
                continue
            keep = self.inliers(p[hits])
            if keep.sum() < self.min_hits:
                continue
            out.append(hits[keep])
            rest = hits[~keep]
            if len(rest) >= self.min_hits:
                (out if self.fit_ok(p, [rest])[0][0] else queue).append(rest)
        return out

    def _merge(self, tracks: list[np.ndarray], p: np.ndarray) -> list[np.ndarray]:
        from trackcore.neighbors import radius_graph

        _, fits = self.fit_ok(p, tracks)
        rows, group = _flatten(tracks)
        count = np.bincount(group, minlength=len(tracks))
        phi = np.arctan2(np.bincount(group, p[rows, 1], len(tracks)) / count,
                         np.bincount(group, p[rows, 0], len(tracks)) / count)
        w_phi, w_eta, w_z0 = self.merge_window
        params = np.stack([np.cos(phi) / w_phi, np.sin(phi) / w_phi, fits.eta / w_eta, fits.z_at_beam / w_z0], 1)
        graph = radius_graph(torch.from_numpy(params), 1.0, backend="kdtree")
        j, i = graph.edge_index.numpy()
        first = i < j
        order = np.argsort(graph.distance.numpy()[first], kind="stable")
        pairs = np.stack([i[first], j[first]], 1)[order]  # nearest first
        members: list[np.ndarray | None] = list(tracks)
        parent = np.arange(len(tracks))
        changed = np.ones(len(tracks), bool)  # pairs of unchanged tracks that failed are not retried
        while len(pairs):
            pairs = parent[pairs]
            pairs = pairs[(pairs[:, 0] != pairs[:, 1]) & (changed[pairs[:, 0]] | changed[pairs[:, 1]])]
            if not len(pairs):
                break
            _, first_seen = np.unique(np.sort(pairs, 1), axis=0, return_index=True)
            pairs = pairs[np.sort(first_seen)]
            unions = [np.union1d(members[a], members[b]) for a, b in pairs]
            ok, _ = self.fit_ok(p, unions)
            changed[:] = False
            for (a, b), union, good in zip(pairs, unions, ok, strict=True):
                if good and not changed[a] and not changed[b]:  # one merge per track per round
                    members[a], members[b] = union, None
                    parent[parent == b] = a
                    changed[a] = True
            pairs = pairs[~ok]
            if not changed.any():
                break
            # failed pairs whose tracks grew this round are retried with the grown tracks
            pairs = np.concatenate([pairs, np.stack([parent[pairs[:, 0]], parent[pairs[:, 1]]], 1)])
        return [m for m in members if m is not None]

    def _extend(
        self, tracks: list[np.ndarray], p: np.ndarray, judged: np.ndarray, aside: list[np.ndarray]
    ) -> list[np.ndarray]:
        from trackcore.neighbors import radius_graph

        free = self._free_hits(tracks + aside, judged)
        if not free.size:
            return tracks
        rows, owner = _flatten(tracks)
        # each free hit queries its nearest candidate hits
        graph = radius_graph(torch.from_numpy(p[rows]), self.extend_radius, query=torch.from_numpy(p[free]),
                             max_num_neighbors=self.extend_neighbors, backend="kdtree")
        near, query = graph.edge_index.numpy()
        if not near.size:
            return tracks
        key = np.unique(free[query] * len(tracks) + owner[near])  # distinct (hit, track) pairs
        hit, track = key // len(tracks), key % len(tracks)
        _, fits = self.fit_ok(p, tracks)
        dxy, drz = fits.residuals(p[hit], track)
        score = np.maximum(dxy / self.tol_xy, drz / self.tol_rz)
        keep = score <= 1.0
        hit, track, score = hit[keep], track[keep], score[keep]
        if not hit.size:
            return tracks
        order = np.lexsort((score, hit))
        hit, track, score = hit[order], track[order], score[order]
        best = np.r_[True, hit[1:] != hit[:-1]]  # each hit: its best-fitting track
        hit, track, score = hit[best], track[best], score[best]
        order = np.lexsort((score, track))  # grouped by track, best-fitting first
        hit, track = hit[order], track[order]
        grown_ids, starts = np.unique(track, return_index=True)
        added = np.split(hit, starts[1:]) if len(hit) else []
        out = list(tracks)
        grown = [np.union1d(out[t], extra) for t, extra in zip(grown_ids, added, strict=True)]
        ok = self.fit_ok(p, grown)[0] if grown else np.zeros(0, bool)
        for t, extra, hits, good in zip(grown_ids, added, grown, ok, strict=True):
            if good:
                out[t] = hits
                continue
            for h in extra:  # best-fitting first; each hit only if the track still fits
                candidate = np.union1d(out[t], [h])
                if self.fit_ok(p, [candidate])[0][0]:
                    out[t] = candidate
        return out

    def _layer_rows(
        self, n_hits: int, volume_id: Any | None, layer_id: Any | None
    ) -> tuple[LayerTable, np.ndarray] | None:
        """The layers of ``hole_volumes`` and each hit's row among them (-1 for hits elsewhere),
        or None when no hole setting is on."""
        if not self.fill_holes and self.max_holes is None and self.min_layers is None:
            return None
        if volume_id is None or layer_id is None:
            raise ValueError("fill_holes, max_holes and min_layers need the hits' volume_id and layer_id "
                             "(the processed event's volume_id and layer_id tensors)")
        vol, lay = as_numpy(volume_id), as_numpy(layer_id)
        for name, values in (("volume_id", vol), ("layer_id", lay)):
            if values.shape != (n_hits,):
                raise ValueError(f"Expected one '{name}' per hit: {n_hits} (got shape {tuple(values.shape)})")
        table = LayerTable.of_volumes(self.hole_volumes)
        rows = table.index(vol, lay)
        counted = np.ones(n_hits, bool) if self.hole_volumes is None else np.isin(vol, self.hole_volumes)
        unknown = counted & (rows < 0)
        if unknown.any():
            first = int(np.flatnonzero(unknown)[0])
            raise ValueError(f"{int(unknown.sum())} hit(s) of the hole volumes lie on no layer of the TrackML detector "
                             f"(first: volume_id {int(vol[first])}, layer_id {int(lay[first])}); "
                             "holes cannot be counted on this detector")
        return table, rows

    def _holes(self, tracks: list[np.ndarray], p: np.ndarray, layer: tuple[LayerTable, np.ndarray]
               ) -> tuple[np.ndarray, HelixFits]:
        """(G, L) holes of each track (:meth:`LayerTable.holes`, ``hole_margin``) and the tracks' fits."""
        table, rows_of_hit = layer
        rows, group = _flatten(tracks)
        fits = fit_helices(p[rows], group, len(tracks))
        return table.holes(fits, group, rows_of_hit[rows], self.hole_margin), fits

    def _fill_holes(
        self, tracks: list[np.ndarray], p: np.ndarray, judged: np.ndarray, aside: list[np.ndarray],
        layer: tuple[LayerTable, np.ndarray] | None,
    ) -> list[np.ndarray]:
        """Step 3b: each hole of a track takes the free hit of that layer nearest its beam-constrained
        helix (within ``fill_tolerance``; each hit to its best track), if the track still fits."""
        assert layer is not None
        free = self._free_hits(tracks + aside, judged)
        if not free.size:
            return tracks
        holes, fits = self._holes(tracks, p, layer)
        beam = beam_constrained_fits(p, tracks, fits)
        free_layer = layer[1][free]
        pairs_t, pairs_h = [], []
        for j in np.flatnonzero(holes.any(0)):
            t = np.flatnonzero(holes[:, j])
            h = free[free_layer == j]
            if h.size:
                pairs_t.append(np.repeat(t, h.size))
                pairs_h.append(np.tile(h, t.size))
        if not pairs_t:
            return tracks
        track, hit = np.concatenate(pairs_t), np.concatenate(pairs_h)
        dxy, drz = beam.residuals(p[hit], track)
        score = np.maximum(dxy / self.fill_tolerance[0], drz / self.fill_tolerance[1])
        keep = score <= 1.0
        if not keep.any():
            return tracks
        track, hit = best_per_layer(track[keep], hit[keep], score[keep], layer[1])
        out = list(tracks)
        for t, h in zip(track, hit, strict=True):
            grown = np.union1d(out[t], [h])
            if self.fit_ok(p, [grown])[0][0]:
                out[t] = grown
        return out

    def _quality(self, tracks: list[np.ndarray], p: np.ndarray, layer: tuple[LayerTable, np.ndarray] | None
                 ) -> list[np.ndarray]:
        """The quality cut: tracks with more than ``max_holes`` holes or fewer than ``min_layers``
        distinct layers are dropped; tracks with a hit outside ``hole_volumes`` pass."""
        assert layer is not None
        holes, _ = self._holes(tracks, p, layer)
        keep = np.array([(layer[1][t] < 0).any() for t in tracks])  # not judged here: kept
        good = np.ones(len(tracks), bool)
        if self.max_holes is not None:
            good &= holes.sum(1) <= self.max_holes
        if self.min_layers is not None:
            n_layers = np.array([np.unique(layer[1][t]).size for t in tracks])
            good &= n_layers >= self.min_layers
        return [t for t, k in zip(tracks, keep | good, strict=True) if k]

    def _crowd(self, tracks: list[np.ndarray], p: np.ndarray, judged: np.ndarray) -> list[np.ndarray]:
        """The crowd cut: tracks whose helix (on their judged hits, if >= 3) misses the beam line by
        more than ``crowd_d0`` and that have a hit they do not hold within ``crowd_radius`` are dropped."""
        own = [t[judged[t]] for t in tracks]
        fitted = np.flatnonzero([len(o) >= 3 for o in own])
        if not fitted.size:
            return tracks
        rows, group = _flatten([own[i] for i in fitted])
        displaced = fitted[fit_helices(p[rows], group, len(fitted)).d0 > self.crowd_d0]
        if not displaced.size:
            return tracks
        from scipy.spatial import cKDTree

        rows, group = _flatten([own[i] for i in displaced])
        near = cKDTree(p).query_ball_point(p[rows], self.crowd_radius, return_sorted=False)
        counts = np.fromiter((len(n) for n in near), np.int64, len(near))
        key = np.repeat(displaced[group], counts) * len(p) + np.concatenate(near).astype(np.int64)
        held, held_group = _flatten([tracks[i] for i in displaced])
        crowded = ~np.isin(key, displaced[held_group] * len(p) + held)  # a near hit the track does not hold
        drop = np.zeros(len(tracks), bool)
        drop[key[crowded] // len(p)] = True
        return [t for t, d in zip(tracks, drop, strict=True) if not d]

    @staticmethod
    def _free_hits(tracks: list[np.ndarray], judged: np.ndarray) -> np.ndarray:
        """Indices of the judged hits in no candidate."""
        assigned = ~judged
        for hits in tracks:
            assigned[hits] = True
        return np.flatnonzero(~assigned)

    def _recover(self, tracks: list[np.ndarray], p: np.ndarray, judged: np.ndarray) -> list[np.ndarray]:
        """New candidates from the judged hits in no candidate (step 4), largest first."""
        from trackcore.neighbors import radius_graph

        free = self._free_hits(tracks, judged)
        if free.size < self.min_hits:
            return []
        q = p[free]
        phi = np.arctan2(q[:, 1], q[:, 0])
        eta = np.arcsinh(q[:, 2] / np.maximum(np.hypot(q[:, 0], q[:, 1]), 1e-9))
        w_phi, w_eta = self.recover_window
        direction = np.stack([np.cos(phi) / w_phi, np.sin(phi) / w_phi, eta / w_eta], 1)
        graph = radius_graph(torch.from_numpy(direction), 1.0, max_num_neighbors=self.recover_neighbors - 1,
                             backend="kdtree")
        near, query = graph.edge_index.numpy()  # grouped by query, nearest first
        return self._seeded_helices(p, free, query, near)

    def _regroup(
        self, tracks: list[np.ndarray], p: np.ndarray, judged: np.ndarray, groups: list[np.ndarray]
    ) -> list[np.ndarray]:
        """New candidates from the judged hits in no candidate, each searched among its group mates (step 5)."""
        free = self._free_hits(tracks, judged)
        if free.size < self.min_hits or not groups:
            return []
        slot = np.full(len(p), -1, np.int64)
        slot[free] = np.arange(len(free))
        member, group = _flatten(groups)
        keep = slot[member] >= 0
        member, group = slot[member[keep]], group[keep]
        _, group, size = np.unique(group, return_inverse=True, return_counts=True)
        keep = size[group] <= self.max_clean_hits  # a blob is not searched (as in the clean step)
        member, group = member[keep], group[keep]
        order = np.argsort(group, kind="stable")
        member, group = member[order], group[order]
        # every ordered pair of free hits within a group
        start = np.searchsorted(group, group)  # where each member's group begins
        count = np.bincount(group)[group]
        first = np.repeat(np.arange(len(member)), count)
        second = np.repeat(start, count) + np.arange(len(first)) - np.repeat(np.cumsum(count) - count, count)
        i, j = member[first], member[second]
        key = np.unique(i[i != j] * len(free) + j[i != j])
        i, j = key // len(free), key % len(free)
        dist = np.linalg.norm(p[free[i]] - p[free[j]], axis=1)
        order = np.lexsort((dist, i))  # grouped by hit, nearest mate first
        return self._seeded_helices(p, free, i[order], j[order])

    def _seeded_helices(
        self, p: np.ndarray, free: np.ndarray, query: np.ndarray, near: np.ndarray
    ) -> list[np.ndarray]:
        """Helices through each free hit among its listed neighbours, accepted largest first, each hit in one.

        Shapes:
            free: (F,) hit indices; query, near: (P,) positions in ``free``, grouped by ``query``
            with the nearest neighbour first (only the first ``recover_neighbors - 1`` are used).
        """
        k = self.recover_neighbors
        q = p[free]
        local = np.full((len(free), k), -1, np.int64)  # each free hit, then its neighbours, nearest first
        local[:, 0] = np.arange(len(free))
        rank = np.arange(len(query)) - np.searchsorted(query, query)  # position within the query's group
        use = rank < k - 1
        local[query[use], 1 + rank[use]] = near[use]
        seeds = np.flatnonzero((local[:, 1:] >= 0).sum(1) >= self.min_hits - 1)  # enough neighbours for a helix
        local = local[seeds]
        valid = local >= 0
        triples = _triples_through_first(k)
        proposals = []
        chunk = max(1, 2_000_000 // (len(triples) * k))  # bounds the (B, T, k) residual arrays
        for start in range(0, len(local), chunk):
            rows = local[start:start + chunk]
            keep = self.best_helices(q[np.maximum(rows, 0)], triples, valid[start:start + chunk])
            for hits, mask in zip(rows, keep, strict=True):
                if mask[0] and mask.sum() >= self.min_hits:  # a helix through the seed hit
                    proposals.append(free[hits[mask]])
        if not proposals:
            return []
        proposals = [np.sort(h) for h in sorted(proposals, key=len, reverse=True)]  # stable: ties in free-hit order
        ok, fits = self.fit_ok(p, proposals)
        good = ok & (fits.d0 <= self.max_d0)  # as proposed; refitted below if some hits were taken
        taken = np.zeros(len(p), bool)
        out: list[np.ndarray] = []
        for hits, fine in zip(proposals, good, strict=True):
            rest = hits[~taken[hits]]
            if len(rest) < self.min_hits:
                continue
            if len(rest) < len(hits):
                ok_rest, fits_rest = self.fit_ok(p, [rest])
                fine = ok_rest[0] and fits_rest.d0[0] <= self.max_d0
            if fine:
                taken[rest] = True
                out.append(rest)
        return out
