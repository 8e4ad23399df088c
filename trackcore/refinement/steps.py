"""The refinement steps: functions from track candidates (hit index arrays) to track candidates.

:class:`~trackcore.refinement.refine.HelixRefinement` calls them in this order, each with the
settings it needs (the helix tolerances as one :class:`~trackcore.refinement.helix.HelixCheck`):

- :func:`clean`: a candidate whose hits do not all lie on one helix keeps its largest
  helix-consistent subset (the robust search); the rest is tried as a candidate of its own.
  Candidates too large to search (a blob) are released.
- :func:`merge`: candidates with nearby track parameters whose union lies on one helix become one
  (pieces of one particle), nearest pairs first.
- :func:`extend`: a free hit near a candidate and on its helix joins it (its best-fitting one).
- :func:`fill_holes`: each layer the candidate's helix crosses without a hit of it (a hole,
  :mod:`trackcore.refinement.holes`) takes the free hit of that layer nearest the candidate's
  beam-constrained helix.
- then the geometric track finder (:mod:`trackcore.refinement.finder`) on the free hits, if asked;
- :func:`quality_cut`: candidates with too many holes or too few layers are dropped (long candidates
  may count only the holes within the span of their hits);
- :func:`crowd_cut`: a displaced candidate (its helix misses the beam line) with another hit near
  one of its hits is dropped.

Every function takes the candidates as a list of sorted hit index arrays into ``p``, the (N_hits, 3)
float64 hit positions in mm; the free hits (judged hits in no candidate) come from :func:`free_hits`.
The reasoning behind each step and its measured effect: ``docs/refinement.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from trackcore.arrays import unique_ints
from trackcore.candidates import as_numpy
from trackcore.refinement.helix import (
    HelixCheck,
    HelixFits,
    beam_constrained_fits,
    best_per_layer,
    fit_helices,
    flatten,
)
from trackcore.refinement.holes import LayerTable

SPAN_PAD = 1.0
"""How far (mm, in radius) inside the span of a track's hits a crossed layer must lie to count as
a hole when holes are counted within the span (:func:`hole_counts` ``span_from``)."""


def free_hits(tracks: list[np.ndarray], judged: np.ndarray) -> np.ndarray:
    """Indices of the judged hits in no candidate.

    Shapes:
        tracks: G index arrays; judged: (N_hits,) bool; returns (F,) int64.
    """
    assigned = ~judged
    for hits in tracks:
        assigned[hits] = True
    return np.flatnonzero(~assigned)


def clean(
    tracks: list[np.ndarray], p: np.ndarray, check: HelixCheck, min_hits: int, max_clean_hits: int
) -> list[np.ndarray]:
    """Each candidate not on one helix keeps its largest helix-consistent subset (``check.inliers``);
    the rest, with ``>= min_hits`` hits, is tried again. Candidates of more than ``max_clean_hits``
    hits that do not fit are released, not searched."""
    tracks = [t for t in tracks if len(t) >= min_hits]
    if not tracks:
        return []
    ok, _ = check.fit_ok(p, tracks)
    out = [t for t, good in zip(tracks, ok, strict=True) if good]
    queue = [t for t, good in zip(tracks, ok, strict=True) if not good and len(t) <= max_clean_hits]
    while queue:  # in rounds: every queued candidate searched at once
        rest = []
        for hits, keep in zip(queue, check.inliers_many([p[hits] for hits in queue]), strict=True):
            if keep.sum() < min_hits:
                continue
            out.append(hits[keep])
            if (~keep).sum() >= min_hits:
                rest.append(hits[~keep])
        fits = check.fit_ok(p, rest)[0] if rest else []
        out += [r for r, good in zip(rest, fits, strict=True) if good]
        queue = [r for r, good in zip(rest, fits, strict=True) if not good]  # no larger than the queued ones
    return out


def merge(
    tracks: list[np.ndarray], p: np.ndarray, check: HelixCheck, window: tuple[float, float, float]
) -> list[np.ndarray]:
    """Candidates whose parameters (azimuth of the mean hit, pseudorapidity, ``z0``) lie within
    ``window`` and whose union fits one helix are merged, nearest pairs first, one merge per
    candidate per round."""
    from trackcore.neighbors import radius_graph

    _, fits = check.fit_ok(p, tracks)
    rows, group = flatten(tracks)
    count = np.bincount(group, minlength=len(tracks))
    phi = np.arctan2(np.bincount(group, p[rows, 1], len(tracks)) / count,
                     np.bincount(group, p[rows, 0], len(tracks)) / count)
    w_phi, w_eta, w_z0 = window
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
        ok, _ = check.fit_ok(p, unions)
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


def extend(
    tracks: list[np.ndarray], p: np.ndarray, free: np.ndarray, check: HelixCheck, radius: float, neighbors: int,
    through_beam: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Each free hit is tried on the candidates of its ``neighbors`` nearest candidate hits within
    ``radius`` (mm) and joins the one it fits best, if that candidate still fits as a whole.

    Candidates marked in ``through_beam`` are tried along their circle through the beam line
    (:func:`~trackcore.refinement.helix.fit_helices`), on the free hits that are among the
    ``neighbors`` nearest hits of the marked candidates too; the whole-candidate check stays their own fit.

    Shapes:
        free: (F,) indices of the free hits (:func:`free_hits`); through_beam: (G,) bool.
    """
    from trackcore.neighbors import radius_graph

    if not free.size:
        return tracks
    rows, owner = flatten(tracks)
    free_points = torch.from_numpy(p[free])

    def nearest(candidate_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index into ``candidate_rows``, index into ``free``) of each free hit's nearest of them."""
        graph = radius_graph(torch.from_numpy(p[rows[candidate_rows]]), radius, query=free_points,
                             max_num_neighbors=neighbors, backend="kdtree")
        return graph.edge_index.numpy()

    near, query = nearest(np.arange(len(rows)))  # each free hit queries its nearest candidate hits
    if through_beam is not None and through_beam.any():
        # the marked candidates' own nearest hits too: in a dense event the nearest candidate hits of a
        # free hit 10 cm from a 3-hit candidate are all others'
        marked = np.flatnonzero(through_beam[owner])
        near_marked, query_marked = nearest(marked)
        near, query = np.r_[near, marked[near_marked]], np.r_[query, query_marked]
    if not near.size:
        return tracks
    key = unique_ints(free[query] * len(tracks) + owner[near])  # distinct (hit, track) pairs
    hit, track = key // len(tracks), key % len(tracks)
    fits = fit_helices(p[rows], owner, len(tracks), through_beam)
    dxy, drz = fits.residuals(p[hit], track)
    score = np.maximum(dxy / check.tol_xy, drz / check.tol_rz)
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
    ok = check.fit_ok(p, grown)[0] if grown else np.zeros(0, bool)
    retry = []  # tracks that do not fit with all their hits: each hit alone, best-fitting first
    for t, extra, hits, good in zip(grown_ids, added, grown, ok, strict=True):
        if good:
            out[t] = hits
        else:
            retry.append((t, extra))
    return add_in_turn(out, retry, p, check)


def add_in_turn(
    tracks: list[np.ndarray], hits: list[tuple[int, np.ndarray]], p: np.ndarray, check: HelixCheck
) -> list[np.ndarray]:
    """Each listed track tries its hits in their order, one at a time, and keeps each one it still fits
    with (``hits``: ``(track, its hits)``, each track once). Round r fits every track's r-th hit together,
    each on the track as the earlier rounds left it: one batched fit per round, the result of fitting
    hit by hit (a track's fit depends on its own hits only).

    Shapes:
        hits: (track index, (H_t,) hit indices) pairs; returns ``tracks`` grown (a new list).
    """
    out = list(tracks)
    for r in range(max((len(extra) for _, extra in hits), default=0)):
        tried = [(t, np.union1d(out[t], extra[r : r + 1])) for t, extra in hits if r < len(extra)]
        fits = check.fit_ok(p, [candidate for _, candidate in tried])[0]
        for (t, candidate), good in zip(tried, fits, strict=True):
            if good:
                out[t] = candidate
    return out


def hit_layers(
    n_hits: int, volume_id: Any | None, layer_id: Any | None, hole_volumes: tuple[int, ...] | None
) -> tuple[LayerTable, np.ndarray]:
    """The layers of ``hole_volumes`` (None: every TrackML layer) and each hit's row among them
    (-1 for hits elsewhere), for :func:`fill_holes` and :func:`quality_cut`.

    Shapes:
        volume_id, layer_id: (N_hits,); returns the table and (N_hits,) int rows.

    Raises:
        ValueError: ``volume_id`` or ``layer_id`` missing or not one per hit, or a hit of
            ``hole_volumes`` on a layer the TrackML detector does not have.
    """
    if volume_id is None or layer_id is None:
        raise ValueError("fill_holes, max_holes, min_layers, short_d0 and recover_min_layers need the hits' "
                         "volume_id and layer_id (the processed event's volume_id and layer_id tensors)")
    vol, lay = as_numpy(volume_id), as_numpy(layer_id)
    for name, values in (("volume_id", vol), ("layer_id", lay)):
        if values.shape != (n_hits,):
            raise ValueError(f"Expected one '{name}' per hit: {n_hits} (got shape {tuple(values.shape)})")
    table = LayerTable.of_volumes(hole_volumes)
    rows = table.index(vol, lay)
    counted = np.ones(n_hits, bool) if hole_volumes is None else np.isin(vol, hole_volumes)
    unknown = counted & (rows < 0)
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        raise ValueError(f"{int(unknown.sum())} hit(s) of the hole volumes lie on no layer of the TrackML detector "
                         f"(first: volume_id {int(vol[first])}, layer_id {int(lay[first])}); "
                         "holes cannot be counted on this detector")
    return table, rows


def hole_counts(tracks: list[np.ndarray], p: np.ndarray, layer: tuple[LayerTable, np.ndarray], margin: float,
                span_from: int | None = None) -> tuple[np.ndarray, HelixFits]:
    """(G, L) holes of each track (:meth:`LayerTable.holes` with ``margin``) and the tracks' fits.

    With ``span_from``, tracks of at least that many hits count only the holes inside the radial
    span of their hits (from the innermost hit's radius to the outermost's, 1 mm inside each):
    a particle that ends (a hadronic interaction, a decay, an exit through the gap between barrel
    and disks) or starts late (a secondary) leaves no hit on the layers beyond, which are no sign
    of a wrong track. Shorter tracks count every crossed layer.

    Shapes:
        layer: :func:`hit_layers`; returns (G, L) bool and G fits.
    """
    table, rows_of_hit = layer
    rows, group = flatten(tracks)
    fits = fit_helices(p[rows], group, len(tracks))
    holes = table.holes(fits, group, rows_of_hit[rows], margin)
    if span_from is not None:
        long = np.array([len(t) >= span_from for t in tracks])
        if long.any():
            r = np.hypot(p[rows, 0], p[rows, 1])
            r_min = np.full(len(tracks), np.inf)
            r_max = np.full(len(tracks), -np.inf)
            np.minimum.at(r_min, group, r)
            np.maximum.at(r_max, group, r)
            rc = table.crossing_radius(fits)
            with np.errstate(invalid="ignore"):
                inside = (rc > r_min[:, None] + SPAN_PAD) & (rc < r_max[:, None] - SPAN_PAD)
            holes &= inside | ~long[:, None]
    return holes, fits


def fill_holes(
    tracks: list[np.ndarray], p: np.ndarray, free: np.ndarray, layer: tuple[LayerTable, np.ndarray],
    check: HelixCheck, tolerance: tuple[float, float], margin: float,
) -> list[np.ndarray]:
    """Each hole of a track takes the free hit of that layer nearest its beam-constrained helix
    (within ``tolerance``, transverse and ``(r, z)`` in mm; each hit to its best track), if the
    track still fits. ``margin``: as in :func:`hole_counts`."""
    if not free.size:
        return tracks
    holes, fits = hole_counts(tracks, p, layer, margin)
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
    score = np.maximum(dxy / tolerance[0], drz / tolerance[1])
    keep = score <= 1.0
    if not keep.any():
        return tracks
    track, hit = best_per_layer(track[keep], hit[keep], score[keep], layer[1])
    per_track: dict[int, list[int]] = {}  # each track's hits in the order given
    for t, h in zip(track.tolist(), hit.tolist(), strict=True):
        per_track.setdefault(t, []).append(h)
    return add_in_turn(tracks, [(t, np.array(h, np.int64)) for t, h in per_track.items()], p, check)


def on_layers(tracks: list[np.ndarray], layer: tuple[LayerTable, np.ndarray]) -> np.ndarray:
    """Which tracks have every hit on a layer of :func:`hit_layers`' table (the others are not judged there).

    Shapes: returns (G,) bool.
    """
    return np.array([(layer[1][t] >= 0).all() for t in tracks], bool)


def layer_counts(tracks: list[np.ndarray], layer: tuple[LayerTable, np.ndarray]) -> np.ndarray:
    """Distinct layers (rows of :func:`hit_layers`' table; hits elsewhere count as one more) of each track.

    Shapes: returns (G,) int.
    """
    if not tracks:
        return np.zeros(0, np.int64)
    rows, group = flatten(tracks)
    lay = layer[1][rows].astype(np.int64) + 1  # -1 (not in the table) -> 0
    span = int(lay.max()) + 1
    pairs = unique_ints(group.astype(np.int64) * span + lay)  # distinct (track, layer)
    return np.bincount(pairs // span, minlength=len(tracks)).astype(np.int64)


def quality_cut(
    tracks: list[np.ndarray], p: np.ndarray, layer: tuple[LayerTable, np.ndarray], margin: float,
    max_holes: int | None, min_layers: int | None, span_from: int | None = None,
    short_d0: tuple[int, float] | None = None,
) -> list[np.ndarray]:
    """The tracks that :func:`quality_mask` keeps."""
    keep = quality_mask(tracks, p, layer, margin, max_holes, min_layers, span_from, short_d0)
    return [t for t, k in zip(tracks, keep, strict=True) if k]


def quality_mask(
    tracks: list[np.ndarray], p: np.ndarray, layer: tuple[LayerTable, np.ndarray], margin: float,
    max_holes: int | None, min_layers: int | None, span_from: int | None = None,
    short_d0: tuple[int, float] | None = None,
) -> np.ndarray:
    """Which tracks pass the quality cut: tracks with more than ``max_holes`` holes (counted as
    :func:`hole_counts` with ``span_from``), fewer than ``min_layers`` distinct layers, or, with
    ``short_d0 = (layers, mm)``, at most ``layers`` distinct layers and a transverse impact parameter
    above ``mm`` fail (None: no such cut); tracks with a hit outside the layer table pass.

    Shapes: returns (G,) bool.
    """
    if not tracks:
        return np.zeros(0, bool)
    holes, fits = hole_counts(tracks, p, layer, margin, span_from)
    keep = ~on_layers(tracks, layer)  # not judged here: kept
    good = np.ones(len(tracks), bool)
    if max_holes is not None:
        good &= holes.sum(1) <= max_holes
    n_layers = layer_counts(tracks, layer) if min_layers is not None or short_d0 is not None else None
    if min_layers is not None:
        good &= n_layers >= min_layers
    if short_d0 is not None:
        good &= (n_layers > short_d0[0]) | (fits.d0 <= short_d0[1])
    return keep | good


def crowd_cut(
    tracks: list[np.ndarray], p: np.ndarray, judged: np.ndarray, max_d0: float, radius: float
) -> list[np.ndarray]:
    """Tracks whose helix (on their judged hits, if >= 3) misses the beam line by more than
    ``max_d0`` (mm) and that have a hit they do not hold within ``radius`` (3D, mm) are dropped."""
    own = [t[judged[t]] for t in tracks]
    fitted = np.flatnonzero([len(o) >= 3 for o in own])
    if not fitted.size:
        return tracks
    rows, group = flatten([own[i] for i in fitted])
    displaced = fitted[fit_helices(p[rows], group, len(fitted)).d0 > max_d0]
    if not displaced.size:
        return tracks
    from scipy.spatial import cKDTree

    rows, group = flatten([own[i] for i in displaced])
    near = cKDTree(p).query_ball_point(p[rows], radius, return_sorted=False)
    counts = np.fromiter((len(n) for n in near), np.int64, len(near))
    key = np.repeat(displaced[group], counts) * len(p) + np.concatenate(near).astype(np.int64)
    held, held_group = flatten([tracks[i] for i in displaced])
    crowded = ~np.isin(key, displaced[held_group] * len(p) + held)  # a near hit the track does not hold
    drop = np.zeros(len(tracks), bool)
    drop[key[crowded] // len(p)] = True
    return [t for t, d in zip(tracks, drop, strict=True) if not d]
