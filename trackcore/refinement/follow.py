"""Follow pixel track candidates into the strips: a model's pixel tracks become full-detector tracks.

The ACTS CKF seeds in the pixels and follows each seed outward, one measurement per layer. This
module does the same with any family's pixel candidates (e.g. EC's on the ``pt1_pixel`` hits),
on the event's full set of hits:

1. Each candidate (largest first) is fitted: an algebraic circle in ``(x, y)`` and a weighted
   line ``z = z0 + t s`` in the transverse arc length ``s = 2R asin(r / 2R)`` (the ``(r, z)`` line
   is wrong by up to ``r^3 / 24R^2``, 15 mm at 1 m for pT = 1 GeV). Pixel hits weigh 1, short
   barrel strips 0.3, long barrel strips 0.01 (their ``z`` is the strip's, sigma 3.1 mm), end-cap
   strips 0 (their ``r`` is the strip's).
2. In rounds (strip hits up to ``radii[0]``, then ``radii[1]`` ...), the free strip hits are judged
   on that helix: across the strip by its distance to the circle, within ``window x (0.3 +
   3 (r / 1 m)^2 / sqrt(n - 3))`` mm (the extrapolation error shrinks as the track grows to ``n``
   hits); along it by ``|dz|`` in the barrel and ``|dr|`` in the end-caps, within
   ``3 sigma + 1`` mm (sigma: :data:`STRIP_SIGMA_ALONG`). Each layer takes its best hit; the
   helix is refitted before the next round. A hit joins one track only. Only the hits near where
   the circle crosses each layer are looked at (the layer's hits binned by azimuth; a window of 1.5
   times the across rule, over the radii the along rule allows on a disk): every pair the rules take
   is among them: judging every strip hit within ``max_turn`` gives the same tracks (tested).
3. Tracks with fewer than ``min_hits`` hits are dropped, as the CKF drops tracks with fewer than
   7 measurements: a pixel track that found no strip continuation is most often a piece of a
   particle or two particles' hits. With ``max_holes``, so are tracks whose helix crosses more
   strip layers without a hit (the CKF's ``maxHoles``): at mu = 200 the pixel tracks between
   |eta| 2.2 and 3 that should reach the strip disks and find none.

``window`` and ``min_hits`` were chosen on the training and validation events; the measured
efficiency, fake rate and time against the ACTS CKF are in ``docs/refinement.md``
(``benchmarks/follow_strips.py``).

Usage::

    from trackcore.refinement.follow import StripFollowing
    full_tracks = StripFollowing()(pixel_tracks, event.pos, event.hit_id, event.volume_id, event.layer_id)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from trackcore.candidates import TrackCandidates, as_numpy
from trackcore.checks import check_count, check_hit_id, check_nonnegative, check_positive, setting_pairs

STRIP_SIGMA_ALONG = {12: 0.35, 13: 0.35, 14: 0.35, 16: 3.1, 17: 3.1, 18: 3.1}
"""Resolution along the strip (mm) per TrackML strip volume: pitch / sqrt(12) of the ACTS Generic
detector's smearing digitisation (short strips 1.2 mm, long strips 10.8 mm;
:data:`trackcore.data.acts_sim.configs.PITCH_MM`)."""
BARREL_STRIPS = (13, 17)
_LINE_WEIGHT = {13: 0.3, 17: 0.01}


def _arc(r: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Transverse arc length from the beam line to radius ``r`` on circles of ``radius`` (``r`` on a
    straight track, ``radius = inf``)."""
    finite = np.isfinite(radius)
    safe = np.where(finite, radius, 1.0)
    return np.where(finite, 2 * safe * np.arcsin(np.minimum(r / (2 * safe), 1.0)), r)


def _radius_at(z: np.ndarray, z0: np.ndarray, slope: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Transverse radius at which the helices ``z = z0 + slope s`` (``s`` the arc length on circles of ``radius``
    from the beam line) reach ``z``: ``2R sin(s / 2R)``, ``s`` past half a turn held at half a turn."""
    tilt = np.where(np.abs(slope) > 1e-9, slope, 1e-9)
    s_at = (z - z0) / tilt
    straight = ~np.isfinite(radius)
    safe = np.where(straight, 1.0, radius)
    half_turn = np.minimum(np.maximum(s_at / (2 * safe), -np.pi / 2), np.pi / 2)
    return np.where(straight, s_at, 2 * safe * np.sin(half_turn))


@dataclass(frozen=True)
class _Layer:
    """One strip layer's hits by azimuth (three turns long, so that a window about any angle is one slice),
    and the extent of its hits (mm)."""

    rows: np.ndarray
    phi: np.ndarray
    r_lo: float
    r_hi: float
    z_lo: float
    z_hi: float
    barrel: bool
    along: float  # the along-strip tolerance, 3 sigma + 1 (mm)


def _strip_layers(rows: np.ndarray, p: np.ndarray, r_all: np.ndarray, vol: np.ndarray, layer_key: np.ndarray,
                  barrel: np.ndarray, sigma: np.ndarray) -> list[_Layer]:
    """The strip hits ``rows``, one :class:`_Layer` per (volume, layer)."""
    layers = []
    keys = layer_key[rows]
    for key in np.unique(keys):
        mine = rows[keys == key]
        phi = np.arctan2(p[mine, 1], p[mine, 0])
        order = np.argsort(phi)
        z = p[mine, 2]
        layers.append(_Layer(
            rows=np.tile(mine[order], 3), phi=np.concatenate([phi[order] + k * 2 * np.pi for k in (-1, 0, 1)]),
            r_lo=float(r_all[mine].min()), r_hi=float(r_all[mine].max()), z_lo=float(z.min()), z_hi=float(z.max()),
            barrel=bool(barrel[mine[0]]), along=3 * float(sigma[vol[mine[0]]]) + 1.0))
    return layers


@dataclass(frozen=True)
class _Helices:
    """Each track's circle (centre ``xc, yc``, ``radius``) and weighted ``z = z0 + slope s`` line; its hits
    flattened (``rows``, ``group``) and its hit count ``size``."""

    xc: np.ndarray
    yc: np.ndarray
    radius: np.ndarray
    z0: np.ndarray
    slope: np.ndarray
    rows: np.ndarray
    group: np.ndarray
    size: np.ndarray


def _fit(tracks: list[np.ndarray], p: np.ndarray, r_all: np.ndarray, weight: np.ndarray) -> _Helices:
    """The helix of each track: algebraic circle, and the line in the arc length weighted by ``weight`` per hit."""
    from trackcore.refinement.helix import fit_helices, flatten

    n = len(tracks)
    rows, group = flatten(tracks)
    fits = fit_helices(p[rows], group, n)
    radius = fits.radius
    s = _arc(r_all[rows], radius[group])
    w = weight[rows]

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=values, minlength=n)

    sw = np.maximum(total(w), 1e-12)
    ms, mz = total(w * s) / sw, total(w * p[rows, 2]) / sw
    ds = s - ms[group]
    var = total(w * ds * ds)
    slope = np.where(var > 0, total(w * ds * (p[rows, 2] - mz[group])) / np.where(var > 0, var, 1.0), 0.0)
    return _Helices(xc=fits.mx + fits.a / 2, yc=fits.my + fits.b / 2, radius=radius, z0=mz - slope * ms, slope=slope,
                    rows=rows, group=group, size=np.array([len(t) for t in tracks]))


def _wrap(angle: np.ndarray) -> np.ndarray:
    """Angles to ``[-pi, pi)``."""
    return (angle + np.pi) % (2 * np.pi) - np.pi


@dataclass(frozen=True)
class StripFollowing:
    """Extend pixel candidates into the strip layers (see the module docstring).

    Args:
        window: scale of the across-strip window (1: 0.3 mm + 3 mm at 1 m for a 4-hit track).
        min_hits: tracks with fewer hits at the end are dropped.
        radii: the rounds' largest strip-hit radii (mm), increasing; the helix is refitted between rounds.
        pixel_volumes: volumes whose hits are never added (the candidates' own detector).
        max_turn: strip hits are searched within this azimuth (rad) of the track's outermost hit
            (a pT = 1 GeV track in 2 T turns by 0.26 rad between r = 170 mm and 1 m).
        max_holes: tracks whose final helix crosses more strip layers without a hit on them are dropped
            (:func:`trackcore.refinement.steps.hole_counts` on the TrackML detector's strip layers: the
            ACTS CKF's ``maxHoles``); ``None``: no limit.
        hole_margin: a layer counts as crossed where the helix meets it this far (mm) inside its sensitive
            area (its ``(r, z)`` line is off by up to ~15 mm at 1 m: see above).
    """

    window: float = 4.0
    min_hits: int = 8
    radii: tuple[float, ...] = (450.0, 750.0, 1100.0)
    pixel_volumes: tuple[int, ...] = (7, 8, 9)
    max_turn: float = 0.4
    max_holes: int | None = None
    hole_margin: float = 10.0

    def __post_init__(self) -> None:
        check_positive("window", self.window)
        check_positive("max_turn", self.max_turn)
        check_count("min_hits", self.min_hits, minimum=1)
        if self.max_holes is not None:
            check_count("max_holes", self.max_holes, minimum=0)
        check_nonnegative("hole_margin", self.hole_margin)
        radii = tuple(float(r) for r in self.radii)
        if not radii or any(r <= 0 for r in radii) or list(radii) != sorted(radii):
            raise ValueError(f"radii must be increasing radii > 0 in mm (got {self.radii!r})")
        object.__setattr__(self, "radii", radii)

    @classmethod
    def from_settings(cls, settings: Sequence[str], flag: str = "--follow") -> StripFollowing:
        """The following of command-line ``KEY=VALUE`` settings (values read as YAML, lists as tuples).

        Raises:
            ValueError: a setting without ``=`` or with a key that is not a field (named with ``flag``).
        """
        import yaml

        kwargs = {}
        for key, value in setting_pairs(settings, (f.name for f in fields(cls)), flag, "strip-following"):
            parsed = yaml.safe_load(value)
            kwargs[key] = tuple(parsed) if isinstance(parsed, list) else parsed
        return cls(**kwargs)

    def __call__(
        self, candidates: TrackCandidates, pos: Any, hit_id: Any, volume_id: Any, layer_id: Any
    ) -> TrackCandidates:
        """The followed tracks (new consecutive track ids).

        Shapes:
            pos: (N_hits, 3) in mm; hit_id, volume_id, layer_id: (N_hits,).

        Raises:
            ValueError: ``pos`` not ``(N, 3)`` or not finite, per-hit arrays of another length, or a
                candidate hit that is not in ``hit_id``.
        """
        p = as_numpy(pos).astype(np.float64, copy=False)
        if p.ndim != 2 or p.shape[1] != 3 or not np.isfinite(p).all():
            raise ValueError(f"'pos' must be finite (N_hits, 3) x, y, z in mm (got shape {tuple(p.shape)})")
        ids = check_hit_id(hit_id, len(p))
        ids = np.arange(len(p), dtype=np.int64) if ids is None else ids
        vol, lay = as_numpy(volume_id).astype(np.int64), as_numpy(layer_id).astype(np.int64)
        for name, values in (("volume_id", vol), ("layer_id", lay)):
            if values.shape != (len(p),):
                raise ValueError(f"Expected one '{name}' per hit: {len(p)} (got shape {tuple(values.shape)})")
        tracks = [t for t in candidates.index_lists(ids)[1] if len(t) >= 3]
        tracks.sort(key=len, reverse=True)
        r_all = np.hypot(p[:, 0], p[:, 1])
        strip = ~np.isin(vol, self.pixel_volumes)
        sigma = np.array([STRIP_SIGMA_ALONG.get(int(v), 1.0) for v in range(int(vol.max(initial=0)) + 1)])
        weight = np.where(np.isin(vol, self.pixel_volumes), 1.0, 0.0)
        for v, w in _LINE_WEIGHT.items():
            weight[vol == v] = w
        barrel = np.isin(vol, BARREL_STRIPS)
        layer_key = vol * 1000 + lay  # one key per (volume, layer)
        free = strip.copy()
        for t in tracks:
            free[t] = False
        tracks = [np.asarray(t, np.int64) for t in tracks]
        layers = _strip_layers(np.flatnonzero(strip), p, r_all, vol, layer_key, barrel, sigma)
        if tracks:
            outer = np.array([t[np.argmax(r_all[t])] for t in tracks])
            phi0 = np.arctan2(p[outer, 1], p[outer, 0])
            for r_max in self.radii:
                tracks = self._round(tracks, layers, phi0, r_max, free, p, r_all, vol, layer_key, sigma, weight,
                                     barrel)
        out = [t for t in tracks if len(t) >= self.min_hits]
        if out and self.max_holes is not None:  # the refinement's hole count, on the strip layers
            from trackcore.refinement.steps import hit_layers, hole_counts

            hole_volumes = tuple(int(v) for v in np.unique(vol[strip]))
            if hole_volumes:
                holes, _ = hole_counts(out, p, hit_layers(len(p), vol, lay, hole_volumes), self.hole_margin)
                out = [t for t, n in zip(out, holes.sum(axis=1), strict=True) if n <= self.max_holes]
        if not out:
            return TrackCandidates.empty()
        rows = np.concatenate(out)
        return TrackCandidates(ids[rows], np.repeat(np.arange(len(out), dtype=np.int64), [len(t) for t in out]))

    def _across(self, r: np.ndarray, size: np.ndarray) -> np.ndarray:
        """The across-strip window (mm) at radius ``r`` of a track of ``size`` hits: ``window x (0.3 + 3 (r / 1 m)^2
        / sqrt(n - 3))`` (the extrapolation error shrinks as the track grows)."""
        return self.window * (0.3 + 3.0 * (r / 1000.0) ** 2 / np.sqrt(np.maximum(size - 3, 1)))

    def _pairs(
        self, layers: list[_Layer], phi0: np.ndarray, outer: np.ndarray, r_max: float, h: _Helices
    ) -> tuple[np.ndarray, np.ndarray]:
        """The (track, strip hit) pairs to judge this round: on each layer reaching ``r_max``, the hits within
        ``max_turn`` of the track's first outermost hit (``phi0``) and near the azimuth where its circle crosses
        the layer's radii (in the end-caps, the radii its helix reaches over the disk's ``z`` within the along
        tolerance), by a margin of 1.5 times the across window. Every pair the rules of :meth:`_round` take is
        among them, at a small fraction of the hits within ``max_turn``.

        Shapes:
            phi0: (T,); outer: (T, 3) each track's outermost hit now; returns two (P,) int64 arrays, track
            numbers and hit rows.
        """
        xc, yc, radius, z0, slope, size = h.xc, h.yc, h.radius, h.z0, h.slope, h.size
        n = len(size)
        d = np.hypot(xc, yc)
        curved = np.isfinite(radius) & (d > 0)
        rad, dist = np.where(curved, radius, 1.0), np.where(curved, d, 1.0)
        phi_c = np.arctan2(yc, xc)

        def crossing(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """Half the angle at the circle's centre between its two crossings of radius ``r`` and, per mm
            across, the crossing's azimuth change times ``r``: ``R / (d sin alpha)``."""
            alpha = np.arccos(np.clip((r * r + dist * dist - rad * rad) / (2 * r * dist), -1.0, 1.0))
            return alpha, rad / np.maximum(dist * np.sin(alpha), 0.05 * rad)

        # the branch of the circle the track runs on: the crossing nearer its outermost hit
        alpha_o, _ = crossing(np.hypot(outer[:, 0], outer[:, 1]))
        phi_o = np.arctan2(outer[:, 1], outer[:, 0])
        sign = np.where(np.abs(_wrap(phi_c + alpha_o - phi_o)) <= np.abs(_wrap(phi_c - alpha_o - phi_o)), 1.0, -1.0)
        tracks, hits = [], []
        for layer in layers:
            if layer.r_lo > r_max:
                continue
            lo, hi = np.full(n, layer.r_lo), np.full(n, min(layer.r_hi, r_max))
            if not layer.barrel:  # the along rule bounds the radius on a disk
                first = _radius_at(np.full(n, layer.z_lo), z0, slope, radius)
                last = _radius_at(np.full(n, layer.z_hi), z0, slope, radius)
                lo = np.maximum(lo, np.minimum(first, last) - layer.along)
                hi = np.minimum(hi, np.maximum(first, last) + layer.along)
            reach = lo <= hi
            lo, hi = np.where(reach, lo, 1.0), np.where(reach, hi, 1.0)
            alpha_lo, spread_lo = crossing(lo)
            alpha_hi, spread_hi = crossing(hi)
            phi_lo = phi_c + sign * alpha_lo
            phi_hi = phi_lo + _wrap(sign * (alpha_hi - alpha_lo))
            margin = 1.5 * self._across(hi, size) * np.maximum(spread_lo, spread_hi) / lo + 0.002
            centre = (phi_lo + phi_hi) / 2
            shift = phi0 + _wrap(centre - phi0) - centre  # the window about phi0
            start = np.where(curved, np.minimum(phi_lo, phi_hi) - margin + shift, -np.inf)
            stop = np.where(curved, np.maximum(phi_lo, phi_hi) + margin + shift, np.inf)
            start = np.searchsorted(layer.phi, np.maximum(start, phi0 - self.max_turn))
            stop = np.searchsorted(layer.phi, np.minimum(stop, phi0 + self.max_turn))
            width = np.where(reach, np.maximum(stop - start, 0), 0)
            if not width.any():
                continue
            pair_track = np.repeat(np.arange(n), width)
            tracks.append(pair_track)
            hits.append(layer.rows[np.arange(len(pair_track)) - np.repeat(np.cumsum(width) - width - start, width)])
        if not tracks:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(tracks), np.concatenate(hits)

    def _round(
        self, tracks: list[np.ndarray], layers: list[_Layer], phi0: np.ndarray, r_max: float,
        free: np.ndarray, p: np.ndarray, r_all: np.ndarray, vol: np.ndarray, layer_key: np.ndarray,
        sigma: np.ndarray, weight: np.ndarray, barrel: np.ndarray,
    ) -> list[np.ndarray]:
        """One round: every track's helix refitted, the free strip hits up to ``r_max`` near its crossing of
        each strip layer judged on it; each hit goes to the track it fits best, each track takes its best hit
        per (volume, layer). Updates ``free``."""
        from trackcore.refinement.helix import best_per_layer

        h = _fit(tracks, p, r_all, weight)
        xc, yc, radius, z0, slope, rows, group, size = h.xc, h.yc, h.radius, h.z0, h.slope, h.rows, h.group, h.size
        order = np.lexsort((r_all[rows], group))  # each track's outermost hit: the last of its group
        outer = rows[order][np.cumsum(size) - 1]
        track, hit = self._pairs(layers, phi0, p[outer], r_max, h)
        keep = free[hit] & (r_all[hit] <= r_max)
        track, hit = track[keep], hit[keep]
        if not track.size:
            return tracks
        # every (track, hit) pair on that helix: first across the strips (cheap), as a pair must pass both rules,
        # then along them for the pairs left (the same pairs and scores as judging every pair on both)
        c, rad = p[hit], radius[track]
        off = np.abs(np.hypot(c[:, 0] - xc[track], c[:, 1] - yc[track]) - rad)  # distance to the circle
        across = off / self._across(r_all[hit], size[track])
        near = across <= 1.0
        if not near.any():
            return tracks
        track, hit, c, rad, across = track[near], hit[near], c[near], rad[near], across[near]
        dz = np.abs(c[:, 2] - (z0[track] + slope[track] * _arc(r_all[hit], rad)))
        dr = np.abs(r_all[hit] - _radius_at(c[:, 2], z0[track], slope[track], rad))
        along = np.where(barrel[hit], dz, dr) / (3 * sigma[vol[hit]] + 1.0)
        score = np.maximum(along, across)
        ok = (score <= 1.0) & np.isfinite(score)
        if not ok.any():
            return tracks
        track, hit = best_per_layer(track[ok], hit[ok], score[ok], layer_key)
        free[hit] = False
        out = list(tracks)
        for t in np.unique(track):
            out[t] = np.concatenate([out[t], hit[track == t]])
        return out
