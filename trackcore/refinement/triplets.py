"""Triplet seeding of free hits for the search off the beam line (the refinement's step 4c).

The displaced search of step 4b (:class:`~trackcore.refinement.finder.DisplacedSearch`) looks for a free hit's
neighbours in direction seen from the origin: at TrackML density (~15,000 free hits after a model's candidates)
a secondary's next hits are rarely among a seed's nearest there. This seeding asks the geometry instead, as a
seeding for tracks off the beam line does (ACTS' large-radius seeding): for each free hit ``m``, the free hits
``b`` on other layers nearer the origin and ``t`` farther out, within ``min_gap .. max_gap`` mm of it, whose
straight line through ``m`` passes within ``max_d0`` (plus the bend a ``min_radius`` circle makes over ``m``'s
radius) of the beam line and moves outwards, are its doublets; ``(b, m, t)`` is a triplet when both doublets have
the same polar angle within ``max_dtheta`` and the circle through the three turns no tighter than
``min_radius`` and passes within ``max_d0`` of the beam line. A particle's hits on three or more layers make
such triplets; random hits rarely do. Each free hit's neighbours are then the hits it shares triplets with
(most shared first, then nearest), and the robust search of
:meth:`~trackcore.refinement.finder.HelixFinder.seeded_helices` takes it from there.

The kernel is compiled (numba, cached on disk; :mod:`~trackcore.refinement.triplet_kernel`) and reads each hit's
azimuth window in the cells of the other layers that may hold a partner (by ``(r, z)`` gap and ``max_z0``), the
cheapest rules first (``|dz|``, squared gap, slope; no square root or arctangent before a doublet passes them),
then for each bottom doublet the top doublets within ``max_dtheta`` of its polar angle (a sorted range). A later
search of the same event on fewer free hits (a model's second building pass) filters the triplets found before
(``memo``) instead of seeding again.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from trackcore.checks import check_count, check_nonnegative, check_positive
from trackcore.refinement import steps
from trackcore.refinement.finder import Accept, HelixFinder, SearchMemo, settings_of
from trackcore.refinement.helix import HelixCheck, helix_radius
from trackcore.refinement.holes import LayerTable
from trackcore.refinement.quality import QualityModel, model_file
from trackcore.refinement.triplet_kernel import layer_cells, triplets_kernel


def compatible_triplets(
    q: np.ndarray, layer: np.ndarray, *, window: float, min_gap: float, max_gap: float, max_d0: float,
    min_radius: float, max_dtheta: float, max_eta: float, max_z0: float | None = None,
) -> np.ndarray:
    """The triplets of points on three layers that may be one particle's off the beam line (module docstring).

    Args:
        q: the points (mm); layer: each point's layer (any integer per layer; < 0: on no layer, never used).
        window: azimuth (rad, seen from the origin) within which a point's doublet partners lie.
        min_gap, max_gap: the 3D distances (mm) between a doublet's points.
        max_d0: largest transverse impact parameter (mm) of a triplet's circle.
        min_radius: smallest radius (mm) of a triplet's circle.
        max_dtheta: largest difference (rad) of the polar angles of a triplet's two doublets.
        max_eta: largest ``|pseudorapidity|`` of a doublet.
        max_z0: largest ``|z|`` (mm) where a doublet's ``(r, z)`` line meets the beam line (None: no rule): for a
            search of particles made near the interaction region, a cheap cut of most doublets of unrelated hits.

    Shapes:
        q: (F, 3) float; layer: (F,) int; returns (K, 3) int64 rows of ``q`` (bottom, middle, top), grouped by
        middle in azimuth order.

    Raises:
        ValueError: ``q`` not (F, 3) finite, or ``layer`` not one per point.
    """
    q = np.ascontiguousarray(q, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != 3 or not np.isfinite(q).all():
        raise ValueError(f"Expected finite points of shape (F, 3) (got shape {q.shape})")
    layer = np.ascontiguousarray(layer, dtype=np.int64)
    if layer.shape != (len(q),):
        raise ValueError(f"Expected one layer per point: {len(q)} (got shape {layer.shape})")
    if len(q) < 3:
        return np.zeros((0, 3), np.int64)
    phi = np.arctan2(q[:, 1], q[:, 0])
    order = np.argsort(phi, kind="stable")
    s = q[order].T.copy()  # the kernel reads the points in azimuth order: contiguous there
    lay = layer[order]
    cells = layer_cells(np.hypot(s[0], s[1]), s[2], lay)
    found = triplets_kernel(s[0], s[1], s[2], lay, phi[order], *cells, float(window), float(min_gap),
                            float(max_gap), float(max_d0), float(min_radius), float(max_dtheta),
                            float(np.sinh(min(max_eta, 700.0))), math.inf if max_z0 is None else float(max_z0))
    return order[found]


def triplet_neighbours(triplets: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point's neighbours: the points it shares triplets with, most shared first, then nearest.

    Shapes:
        triplets: (K, 3) rows of ``q``; q: (F, 3); returns ``(query, near)``, (P,) each, grouped by ``query``
        in increasing order (the form :meth:`~trackcore.refinement.finder.HelixFinder.seeded_helices` takes).
    """
    if not len(triplets):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pairs = np.concatenate([triplets[:, [i, j]] for i in range(3) for j in range(3) if i != j])
    key, shared = np.unique(pairs[:, 0] * len(q) + pairs[:, 1], return_counts=True)
    query, near = key // len(q), key % len(q)
    distance = np.linalg.norm(q[query] - q[near], axis=1)
    order = np.lexsort((near, distance, -shared, query))
    return query[order], near[order]


@dataclass(frozen=True)
class TripletSearch:
    """The settings of the refinement's triplet-seeded search off the beam line (its step 4c).

    On the hits the earlier steps leave free: each free hit's triplet neighbours (module docstring), searched
    for the helix through it holding the most of them (:meth:`HelixFinder.seeded_helices`, ``strict``); a
    helix must span ``min_layers`` layers and pass the refinement's quality cut without its ``short_d0`` rule
    and the learned cut (this search's own ``quality_model`` where given, else the refinement's) before it takes
    its hits, and only those with a transverse momentum above ``min_pt`` become candidates. On 3 layers off the
    beam line three hits fix a circle exactly and only the ``(r, z)`` line constrains them: at TrackML density
    such helices of free hits are nearly all fakes (measured in ``docs/refinement.md``), so ``min_layers`` is 4.

    Args:
        window: azimuth (rad, seen from the origin) within which a hit's doublet partners lie.
        min_gap, max_gap: the 3D distances (mm) between a doublet's hits (TrackML pixel layers: 40-200 mm).
        max_dtheta: largest difference (rad) of the polar angles of a triplet's two doublets.
        max_d0: largest transverse impact parameter (mm) of a triplet's circle and of a found helix.
        neighbors: hits searched around each free hit (including it), most shared triplets first.
        min_layers: smallest number of distinct layers of a found helix.
        min_pt: smallest transverse momentum (GeV) of a returned helix.
        search_min_pt: the transverse momentum (GeV) below which three hits define no triplet nor helix in the
            search (three hits measure a circle coarsely: set it below ``min_pt``).
        field_t: the magnetic field (T) that turns momenta into radii (TrackML: 2).
        retries: times a seed whose best helix is rejected is searched again without its other hits.
        max_z0: largest ``|z|`` (mm) where a doublet's ``(r, z)`` line meets the beam line (None: no rule; a
            prompt search's cut, e.g. at ACTS mu = 200 where this search finds prompt particles the network missed).
        quality_model: a saved :class:`~trackcore.refinement.quality.QualityModel` judging this search's helices
            (``trackcore quality fit --triplets``; None: the refinement's learned cut, if any).
        max_fake_prob: its largest fake probability of a helix kept.
    """

    window: float = 0.6
    min_gap: float = 20.0
    max_gap: float = 250.0
    max_dtheta: float = 0.005
    max_d0: float = 40.0
    neighbors: int = 24
    min_layers: int = 4
    min_pt: float = 0.9
    search_min_pt: float = 0.7
    field_t: float = 2.0
    retries: int = 1
    max_z0: float | None = None
    quality_model: str | None = None
    max_fake_prob: float = 0.5

    def __post_init__(self) -> None:
        for name in ("window", "max_gap", "max_dtheta", "max_d0", "field_t"):
            check_positive(f"triplets {name}", getattr(self, name))
        if self.max_z0 is not None:
            check_positive("triplets max_z0", self.max_z0)
        for name in ("min_gap", "min_pt", "search_min_pt"):
            check_nonnegative(f"triplets {name}", getattr(self, name))
        if self.min_gap >= self.max_gap:
            raise ValueError(f"triplets min_gap must be below max_gap (got {self.min_gap} and {self.max_gap})")
        for name, minimum in (("neighbors", 3), ("min_layers", 1), ("retries", 0)):
            check_count(f"triplets {name}", getattr(self, name), minimum=minimum)
        if not 0.0 < self.max_fake_prob <= 1.0:
            raise ValueError(f"triplets max_fake_prob must lie in (0, 1] (got {self.max_fake_prob!r})")
        object.__setattr__(self, "quality_model", model_file(self.quality_model))
        if self.quality_model is not None:
            QualityModel.load(self.quality_model)  # a missing or wrong file is named now, not mid-run

    @classmethod
    def of(cls, value: TripletSearch | Mapping[str, Any] | str | None) -> TripletSearch | None:
        """``value`` as settings: a mapping of them (a config's) is read, None stays None.

        Raises:
            ValueError: an unknown setting, or a value that is neither.
        """
        return settings_of(cls, value, "triplets")

    def find(self, p: np.ndarray, free: np.ndarray, layer: tuple[LayerTable, np.ndarray], check: HelixCheck,
             min_hits: int,
             max_clean_hits: int, accept: Accept | None = None, memo: SearchMemo | None = None
             ) -> list[np.ndarray]:
        """New candidates among the free hits on ``min_layers`` layers, largest first, each hit in one (``accept``,
        ``memo``: see :meth:`HelixFinder.seeded_helices`).

        Shapes:
            p: (N_hits, 3) float64; free: (F,) hit indices; layer: :func:`steps.hit_layers` (rows < 0: on none);
            returns index arrays into ``p``.
        """
        if free.size < max(min_hits, 3):
            return []
        q = p[free]
        search_radius = helix_radius(self.search_min_pt, self.field_t)
        triplets = self._triplets(p, free, layer[1], search_radius, check.max_eta, memo)
        query, near = triplet_neighbours(triplets, q)
        finder = HelixFinder(check, min_hits, self.neighbors, max_d0=self.max_d0, max_clean_hits=max_clean_hits,
                             min_radius=helix_radius(self.min_pt, self.field_t), retries=self.retries, strict=True,
                             search_min_radius=search_radius)

        def rule(tracks: list[np.ndarray]) -> np.ndarray:
            ok = steps.layer_counts(tracks, layer) >= self.min_layers
            if accept is not None and ok.any():
                ok[ok] = accept([t for t, k in zip(tracks, ok, strict=True) if k])
            return ok

        return finder.seeded_helices(p, free, query, near, rule, memo)

    def _triplets(self, p: np.ndarray, free: np.ndarray, hit_layer: np.ndarray, search_radius: float,
                  max_eta: float, memo: SearchMemo | None) -> np.ndarray:
        """:func:`compatible_triplets` of the free hits, as rows of ``free``. Each triplet is judged on its three
        hits alone, so the triplets of fewer hits are those of more hits whose three hits are all still free: with
        ``memo``, a later search of this event on a subset of an earlier one's free hits (a model's second building
        pass) filters that search's triplets instead of seeding again.

        Shapes:
            p: (N_hits, 3); free: (F,) hit indices; hit_layer: (N_hits,); returns (K, 3) rows of ``free``.
        """
        rules = dict(window=self.window, min_gap=self.min_gap, max_gap=self.max_gap, max_d0=self.max_d0,
                     min_radius=search_radius, max_dtheta=self.max_dtheta, max_eta=max_eta, max_z0=self.max_z0)
        layers = hashlib.blake2b(np.ascontiguousarray(hit_layer).tobytes(), digest_size=8).digest()
        key = b"triplets " + repr(sorted(rules.items())).encode() + layers  # what the triplets depend on
        known_free, known = (None, None) if memo is None else (memo.get(key + b" free"), memo.get(key))
        if known_free is not None and known is not None and np.isin(free, known_free).all():
            row = np.full(len(p), -1, np.int64)
            row[free] = np.arange(len(free))
            rows = row[known]  # the earlier triplets' hits as rows of this search's free hits (-1: taken since)
            return rows[(rows >= 0).all(1)]
        rows = compatible_triplets(p[free], hit_layer[free], **rules)
        if memo is not None:
            memo[key + b" free"], memo[key] = free.copy(), free[rows]
        return rows
