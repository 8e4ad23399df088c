"""The geometric track finder of the refinement: helices among the hits that no candidate holds.

Each free hit and its nearest free hits give the best helix through that hit (the robust search of
:meth:`~trackcore.refinement.helix.HelixCheck.best_helices`, on the triples that contain it: the helix
holding the most hits; with ``strict``, among those whose triple lies on it, passes within ``max_d0`` of
the beam line and has no two hits closer than ``min_gap``); helices through the beam line (transverse
impact parameter ``d0 <= max_d0``, which assumes prompt particles) become candidates, largest first, each
hit in one (a caller's ``accept`` rule, e.g. the refinement's quality cut, judges each before it takes its
hits: a helix that would be cut leaves them to the next). Two ways to choose the neighbours:

- :meth:`HelixFinder.recover`: the nearest free hits in the direction seen from the origin
  (azimuth and pseudorapidity, within ``window``). Given every hit and no candidates, this alone is a
  complete geometric track finder (``benchmarks/geometric_baseline.py``; its measured efficiency is in
  ``docs/refinement.md``), so a model's numbers with it on measure the geometry more than the model.
- :meth:`HelixFinder.regroup`: only the free hits that share a group with the hit (which hits a
  model holds may share a track, e.g. each hit's top-3 HGNN super-nodes), nearest first: it can
  only rebuild what the model grouped.

:class:`~trackcore.refinement.refine.HelixRefinement` runs them as its steps 4 (``recover``) and 5
(``groups``) on the hits its candidates leave free, and :class:`DisplacedSearch` (``recover`` again with a
wider window, no beam-line constraint and a pT floor) as its step 4b.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from trackcore.arrays import unique_ints
from trackcore.checks import check_count, check_nonnegative, check_positive, check_positive_tuple, is_null_text
from trackcore.refinement.helix import HelixCheck, flatten, helix_radius, triples_through_first

Accept = Callable[[list[np.ndarray]], np.ndarray]
"""Which of several candidates (hit index arrays) may be kept: (G,) bool."""
SearchMemo = dict[bytes, Any]
"""What several refinements of one event (a model's building passes, a scan's builder settings) share, each
entry keyed by the settings it depends on: the robust search's result per searched neighbourhood (its hit
indices, in order), the triplet search's triplets (:mod:`~trackcore.refinement.triplets`) and the learned cuts'
layers and crowding (:func:`~trackcore.refinement.quality.learned_judge`)."""


def settings_of(cls: type, value: Any, name: str) -> Any:
    """``value`` as settings of the dataclass ``cls``: an instance stays, a mapping of them (a config's) is read,
    None stays None, and so does the command line's ``null`` (``--model.init_args.refine.displaced=null``:
    jsonargparse passes a nested override of a mapping setting as the string ``"None"``).

    Raises:
        ValueError: an unknown setting, or a value that is neither (naming the setting ``name``).
    """
    if is_null_text(value):
        return None
    if value is None or isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be None or a mapping of {cls.__name__} settings (got {value!r})")
    unknown = set(value) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"{name}: unknown setting(s) {sorted(unknown)} (choose from {[f.name for f in fields(cls)]})")
    return cls(**value)


@dataclass(frozen=True)
class HelixFinder:
    """Helices of free hits, each through one free hit and its neighbours.

    Args:
        check: the helix tolerances (every found candidate must fit its least-squares helix).
        min_hits: smallest candidate found.
        neighbors: free hits searched around each free hit (including it).
        window: ``(azimuth rad, pseudorapidity)`` seen from the origin, within which free hits are
            neighbours in :meth:`recover`.
        max_d0: largest transverse impact parameter of a found candidate (mm).
        max_clean_hits: groups of more free hits are blobs, not searched by :meth:`regroup`.
        min_radius: smallest transverse radius of a found candidate (mm; ``R = pT / (0.3 B)``). A helix
            that turns tighter still takes its hits (they are no other helix's), but is not returned.
        retries: times a seed whose best helix was rejected is searched again without that helix's
            other hits.
        strict: the search's helices must hold the three hits that define them (the middle one in
            ``(r, z)`` may otherwise lie off the line through the other two: the seed off its own helix),
            pass within ``max_d0`` of the beam line (as the found candidate must) and be defined by hits
            ``min_gap`` apart. Without these rules a helix counted by its hits alone is often not one that
            can be accepted: a secondary's 3 hits lose to 3 hits of which the seed is no part, or to the
            seed and two hits of one particle on overlapping modules, which fix no curvature.
        min_gap: the closest two hits of the triple that defines a searched helix may be (mm; ``strict``
            only): hits of one particle on one layer are <= 5 mm apart in the simulation, on different
            layers >= 40 mm.
        search_min_radius: ``strict``: a triple whose circle's radius is below this (mm) defines no helix (0:
            no such rule). Otherwise a soft particle's hits and a seed can make a larger helix that wins the
            seed (and, too tight to be returned, still takes its hits).
    """

    check: HelixCheck
    min_hits: int = 3
    neighbors: int = 16
    window: tuple[float, float] = (0.06, 0.6)
    max_d0: float = 2.0
    max_clean_hits: int = 60
    min_radius: float = 0.0
    retries: int = 0
    strict: bool = False
    min_gap: float = 10.0
    search_min_radius: float = 0.0

    def recover(
        self, p: np.ndarray, free: np.ndarray, accept: Accept | None = None, memo: SearchMemo | None = None
    ) -> list[np.ndarray]:
        """New candidates from the free hits, each searched among its nearest in direction, largest first
        (``accept``, ``memo``: see :meth:`seeded_helices`).

        Shapes:
            p: (N_hits, 3) float64; free: (F,) hit indices; returns index arrays into ``p``.
        """
        from trackcore.neighbors import radius_graph

        if free.size < self.min_hits:
            return []
        q = p[free]
        phi = np.arctan2(q[:, 1], q[:, 0])
        eta = np.arcsinh(q[:, 2] / np.maximum(np.hypot(q[:, 0], q[:, 1]), 1e-9))
        w_phi, w_eta = self.window
        direction = np.stack([np.cos(phi) / w_phi, np.sin(phi) / w_phi, eta / w_eta], 1)
        graph = radius_graph(torch.from_numpy(direction), 1.0, max_num_neighbors=self.neighbors - 1,
                             backend="kdtree")
        near, query = graph.edge_index.numpy()  # grouped by query, nearest first
        return self.seeded_helices(p, free, query, near, accept, memo)

    def regroup(
        self, p: np.ndarray, free: np.ndarray, groups: list[np.ndarray], accept: Accept | None = None,
        memo: SearchMemo | None = None,
    ) -> list[np.ndarray]:
        """New candidates from the free hits, each searched among its group mates (``accept``, ``memo``:
        see :meth:`seeded_helices`).

        Shapes:
            p: (N_hits, 3) float64; free: (F,) hit indices; groups: index arrays into ``p`` (a hit
            may be in several); returns index arrays into ``p``.
        """
        if free.size < self.min_hits or not groups:
            return []
        slot = np.full(len(p), -1, np.int64)
        slot[free] = np.arange(len(free))
        member, group = flatten(groups)
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
        key = unique_ints(i[i != j] * len(free) + j[i != j])
        i, j = key // len(free), key % len(free)
        return self.seeded_helices(p, free, *nearest_first(p[free], i, j), accept, memo)

    def seeded_helices(
        self, p: np.ndarray, free: np.ndarray, query: np.ndarray, near: np.ndarray, accept: Accept | None = None,
        memo: SearchMemo | None = None,
    ) -> list[np.ndarray]:
        """Helices through each free hit among its listed neighbours, accepted largest first, each hit in one.

        A helix is accepted if it fits within the tolerances, passes within ``max_d0`` of the beam line
        and ``accept`` (given) passes it, judged on the hits that larger accepted ones left it; a
        rejected helix takes no hits. ``memo`` (given): a neighbourhood searched before in this event (the
        same hits in the same order, so the same result) is not searched again, and new ones are added.

        Shapes:
            free: (F,) hit indices; query, near: (P,) positions in ``free``, grouped by ``query``
            with the nearest neighbour first (only the first ``neighbors - 1`` are used).
        """
        k = self.neighbors
        local = np.full((len(free), k), -1, np.int64)  # each free hit, then its neighbours, nearest first
        local[:, 0] = np.arange(len(free))
        rank = np.arange(len(query)) - np.searchsorted(query, query)  # position within the query's group
        use = rank < k - 1
        local[query[use], 1 + rank[use]] = near[use]
        seeds = np.flatnonzero((local[:, 1:] >= 0).sum(1) >= self.min_hits - 1)  # enough neighbours for a helix
        local = local[seeds]
        valid = local >= 0
        triples = triples_through_first(k)
        proposals: list[np.ndarray] = []
        judged: list[tuple[np.ndarray, np.ndarray]] = []  # (fine, radius) of each round's proposals
        for round_ in range(1 + self.retries):
            keep = self._search(p, free, local, valid, triples, memo)
            rows = np.flatnonzero(keep[:, 0] & (keep.sum(1) >= self.min_hits))  # a helix through the seed hit
            found = [np.sort(free[local[i][keep[i]]]) for i in rows]
            if not found:
                break
            fine, radius = self._judge(p, found, accept)
            proposals += found
            judged.append((fine, radius))
            # a seed whose best helix was rejected: searched again without that helix's other hits
            again = rows[~fine]
            if round_ == self.retries or not len(again):
                break
            local, valid = local[again], valid[again] & ~keep[again]
            valid[:, 0] = True
            enough = valid.sum(1) >= self.min_hits
            local, valid = local[enough], valid[enough]
        if not proposals:
            return []
        good = np.concatenate([f for f, _ in judged])  # as proposed; judged again below if some hits were taken
        radius = np.concatenate([r for _, r in judged])
        order = sorted(range(len(proposals)), key=lambda i: len(proposals[i]), reverse=True)  # stable: ties in order
        return self.accept_largest(p, [proposals[i] for i in order], good[order], radius[order], accept)

    def accept_largest(
        self, p: np.ndarray, proposals: list[np.ndarray], good: np.ndarray, radius: np.ndarray,
        accept: Accept | None = None,
    ) -> list[np.ndarray]:
        """The proposals in turn (largest first), each on the hits the accepted ones before it left: kept whole if
        ``good`` (its judgement on all its hits), judged again (:meth:`_judge`) if it lost some; an accepted one
        takes its hits, and is a candidate if its ``radius`` reaches ``min_radius``.

        Shapes:
            proposals: G index arrays into ``p``; good, radius: (G,); returns index arrays.
        """
        taken = np.zeros(len(p), bool)
        out: list[np.ndarray] = []
        ahead: dict[int, tuple[np.ndarray, bool, float]] = {}
        for i, (hits, fine, turn) in enumerate(zip(proposals, good, radius, strict=True)):
            rest = hits[~taken[hits]]
            if len(rest) < self.min_hits:
                continue
            if len(rest) < len(hits):  # judged again on the hits larger accepted ones left it
                known = ahead.get(i)
                if known is None or not np.array_equal(known[0], rest):
                    ahead = self._judge_ahead(p, proposals, i, taken, accept)
                    known = ahead[i]
                _, fine, turn = known
            if fine:
                taken[rest] = True
                if turn >= self.min_radius:  # a tighter helix holds its hits, but is no candidate
                    out.append(rest)
        return out

    def _judge_ahead(
        self, p: np.ndarray, proposals: list[np.ndarray], start: int, taken: np.ndarray, accept: Accept | None,
        batch: int = 64, horizon: int = 1024,
    ) -> dict[int, tuple[np.ndarray, bool, float]]:
        """Proposal ``start`` and up to ``batch - 1`` of the next ``horizon`` that larger accepted ones have
        taken hits from, judged in one call on the hits ``taken`` leaves them now: ``{proposal: (those hits,
        fine, radius)}``. A later proposal's entry holds only while no proposal accepted before it takes more of
        its hits (the caller compares the hits): the same decisions as judging each in turn, in fewer calls.
        """
        which, rests = [], []
        for j in range(start, min(start + horizon, len(proposals))):
            hits = proposals[j]
            rest = hits[~taken[hits]]
            if self.min_hits <= len(rest) < len(hits):
                which.append(j)
                rests.append(rest)
                if len(which) == batch:
                    break
        fine, radius = self._judge(p, rests, accept)
        return {j: (rest, bool(f), float(r)) for j, rest, f, r in zip(which, rests, fine, radius, strict=True)}

    def _judge(self, p: np.ndarray, found: list[np.ndarray], accept: Accept | None) -> tuple[np.ndarray, np.ndarray]:
        """Whether each found helix fits, passes within ``max_d0`` of the beam line and ``accept``; and its radius.

        Shapes: returns (G,) bool and (G,) float (mm).
        """
        ok, fits = self.check.fit_ok(p, found)
        good = ok & (fits.d0 <= self.max_d0)
        if accept is not None and good.any():
            which = np.flatnonzero(good)
            good[which] = accept([found[i] for i in which])
        return good, fits.radius

    def _search(
        self, p: np.ndarray, free: np.ndarray, local: np.ndarray, valid: np.ndarray, triples: np.ndarray,
        memo: SearchMemo | None,
    ) -> np.ndarray:
        """:meth:`HelixCheck.best_helices` of each neighbourhood (rows of ``local``, positions in ``free``),
        those in ``memo`` taken from it.

        Shapes:
            local, valid: (S, k); returns (S, k) bool.
        """
        if memo is None:
            return self._best_helices(p[free[np.maximum(local, 0)]], triples, valid)
        hits = np.where(valid, free[np.maximum(local, 0)], -1)
        rules = repr(sorted(self._rules.items())).encode()  # the searches sharing a memo may differ in them
        keys = [rules + row.tobytes() for row in hits]
        keep = np.zeros(local.shape, bool)
        todo = []
        for i, key in enumerate(keys):
            known = memo.get(key)
            if known is None:
                todo.append(i)
            else:
                keep[i] = known
        if todo:
            rows = np.asarray(todo, np.int64)
            found = self._best_helices(p[hits[rows].clip(min=0)], triples, valid[rows])
            keep[rows] = found
            for i, mask in zip(todo, found, strict=True):
                memo[keys[i]] = mask
        return keep

    def _best_helices(self, p: np.ndarray, triples: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """:meth:`HelixCheck.best_helices` of neighbourhoods (the seed hit first) with the rules of
        :attr:`_rules` (``strict``).

        Shapes:
            p: (S, k, 3) float64; triples: (T, 3); valid: (S, k) bool; returns (S, k) bool.
        """
        return self.check.best_helices(p, triples, valid, **self._rules)

    @property
    def _rules(self) -> dict[str, Any]:
        """The rules on the search's triples that :meth:`HelixCheck.best_helices` takes (none unless ``strict``)."""
        if not self.strict:
            return {}
        return {"min_gap": self.min_gap, "whole": True, "max_d0": self.max_d0,
                "min_radius": self.search_min_radius}


def nearest_first(q: np.ndarray, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``(i, j)`` grouped by ``i`` (ascending), each ``i``'s mates nearest first, ties in their given
    order: ``np.lexsort((distance, i))`` by two stable sorts, the distance's over all pairs first, then the
    hits' (a radix sort while the hits fit 16 bits), with the distances taken column by column (faster than
    the lexsort and the row-wise norm on millions of pairs).

    Shapes:
        q: (F, 3) float64; i, j: (P,) int64 positions in ``q`` -> (P,), (P,).
    """
    squared = np.zeros(len(i))
    for column in np.ascontiguousarray(q.T):
        diff = column.take(i) - column.take(j)
        squared += diff * diff
    order = np.argsort(np.sqrt(squared), kind="stable")
    by_hit = i[order]
    order = order[np.argsort(by_hit.astype(np.uint16) if len(q) <= 1 << 16 else by_hit, kind="stable")]
    return i[order], j[order]


@dataclass(frozen=True)
class DisplacedSearch:
    """The settings of the refinement's search for helices off the beam line (its step 4b).

    The prompt search (:meth:`HelixFinder.recover`) looks for neighbours within a narrow window in direction
    seen from the origin and keeps helices within ``max_d0`` of the beam line: a secondary made a few cm out
    (an interaction in a layer, a decay) passes tens of mm from the beam line, and the direction of its hits
    seen from the origin turns from layer to layer by ``asin(d0 / r)``: neither rule holds it. This search runs
    after the prompt one, on the hits it leaves free, with a wider azimuth window, more neighbours and a large
    ``max_d0``; its helices must span ``min_layers`` layers and pass the refinement's quality cut without its
    ``short_d0`` rule, and only those with a transverse momentum above ``min_pt`` become candidates. Three hits
    always lie on a circle, so a 3-layer helix off the beam line is constrained by its ``(r, z)`` line alone:
    such fakes of free hits (noise, soft particles) mostly turn tightly. The softer helices found still hold
    their hits: left free, those hits make other fakes (measured in ``docs/refinement.md``).

    Args:
        window: ``(azimuth rad, pseudorapidity)`` seen from the origin within which free hits are neighbours.
        neighbors: free hits searched around each free hit (including it).
        max_d0: largest transverse impact parameter of a found helix (mm).
        min_layers: smallest number of distinct layers of a found helix.
        min_pt: smallest transverse momentum of a returned helix (GeV).
        field_t: the magnetic field (T) that turns ``min_pt`` into a helix radius (TrackML: 2).
        retries: times a seed whose best helix is rejected is searched again without that helix's other
            hits (:attr:`HelixFinder.retries`).
        search_min_pt: the transverse momentum below which a triple's circle defines no helix in the search
            (GeV; 0: no such rule; :attr:`HelixFinder.search_min_radius`). Three hits measure a circle's radius
            coarsely: set it below ``min_pt``.
    """

    window: tuple[float, float] = (0.3, 0.6)
    neighbors: int = 24
    max_d0: float = 40.0
    min_layers: int = 3
    min_pt: float = 0.9
    field_t: float = 2.0
    retries: int = 1
    search_min_pt: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "window",
                           check_positive_tuple("displaced window", self.window, ("azimuth", "pseudorapidity")))
        for name, minimum in (("neighbors", 3), ("min_layers", 1), ("retries", 0)):
            object.__setattr__(self, name, check_count(f"displaced {name}", getattr(self, name), minimum=minimum))
        for name in ("max_d0", "field_t"):
            object.__setattr__(self, name, check_positive(f"displaced {name}", getattr(self, name)))
        object.__setattr__(self, "min_pt", check_nonnegative("displaced min_pt", self.min_pt))
        object.__setattr__(self, "search_min_pt", check_nonnegative("displaced search_min_pt", self.search_min_pt))

    @classmethod
    def of(cls, value: DisplacedSearch | Mapping[str, Any] | str | None) -> DisplacedSearch | None:
        """``value`` as settings: a mapping of them (a config's) is read, None stays None.

        Raises:
            ValueError: an unknown setting, or a value that is neither.
        """
        return settings_of(cls, value, "displaced")

    def finder(self, check: HelixCheck, min_hits: int, max_clean_hits: int) -> HelixFinder:
        """The :class:`HelixFinder` of this search with the refinement's tolerances (``strict``: among more
        hits, off the beam line, a helix counted by its hits alone is more often one that cannot be accepted)."""
        return HelixFinder(check, min_hits, self.neighbors, self.window, self.max_d0, max_clean_hits,
                           helix_radius(self.min_pt, self.field_t), self.retries, strict=True,
                           search_min_radius=helix_radius(self.search_min_pt, self.field_t))
