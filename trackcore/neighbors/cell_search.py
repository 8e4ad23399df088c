"""Exact search over k-means cells pruned by the triangle inequality; CPU or CUDA, torch (and FAISS).

The database is split into cells of ~:data:`CELL_SIZE` points by a few k-means rounds; each cell keeps
its centroid ``c`` and radius ``R`` (its farthest member). A point within ``r`` of a query ``q`` lies in
a cell with ``|q - c| <= R + r`` (triangle inequality), so a radius search compares each query with
the members of those cells only, and a kNN search first bounds each query's k-th distance from its
nearest cells, then runs that radius search. Nothing is approximated: every point that can be an answer
is compared. Unlike a KD-tree, which degrades to brute force on spread-out data in 20+ dimensions (the
embeddings EggNet searches between its iterations), the cells adapt to the data, and the work is dense
blocks of distances, cell by cell. A kNN query whose bound reaches a large part of the cells
(:data:`DENSE_PROBE_FRACTION`: spread-out data) is compared with every point instead, by FAISS's flat
index on the CPU where it is installed.

Squared distances come from the ``|q|^2 + |x|^2 - 2 q.x`` expansion in float32 on centred data; the
pruning and filtering widen their thresholds by :func:`trackcore.neighbors.torch_search.expansion_slack`
so rounding never drops a true answer (the shared edge step recomputes and filters every candidate).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch

from trackcore.neighbors.torch_search import expansion_slack

CELL_SIZE = 64
"""Target points per cell: smaller cells prune more, but the cell loop runs once per cell."""
MAX_CELLS = 4096
"""Cap on the number of cells (the query-to-centroid block is ``(chunk, cells)``)."""
KMEANS_ROUNDS = 4
"""Lloyd iterations of the cell k-means (its quality changes speed, never the answer)."""
KMEANS_SAMPLE_PER_CELL = 16
"""The k-means fits on at most this many sampled points per cell; every point is then assigned."""
BLOCK_QUERIES = 8192
"""Queries per query-to-centroid block (bounds its memory)."""
KNN_PROBE_CELLS = 3
"""A kNN search bounds each query's k-th distance with the members of its nearest cells."""
DENSE_PROBE_FRACTION = 0.25
"""A kNN query whose bound reaches more than this fraction of the cells is compared with every point
(FAISS's flat index on the CPU where installed, else dense torch blocks): on spread-out data, where the
k-th neighbour lies farther than the cells' radii (EggNet's embedding after an iteration that did not
cluster the hits), pruning saves nothing and the cell loop costs more than a dense search."""
DENSE_BLOCK_ELEMENTS = 1 << 24
"""Query-to-point distances per dense block (64 MB of float32)."""


def _sq_dist(a: torch.Tensor, b: torch.Tensor, b_sq: torch.Tensor) -> torch.Tensor:
    return torch.addmm(b_sq.unsqueeze(0), a, b.T, beta=1.0, alpha=-2.0).add_(a.square().sum(1, keepdim=True))


class CellSearcher:
    """Exact cell-pruned search (see the module docstring).

    Args:
        x: database, float32, on the device to search on.
        seed: seed of the k-means initialisation (changes speed only, never the result).
        dense_faiss: search the dense kNN queries (:data:`DENSE_PROBE_FRACTION`) with FAISS's flat index
            (CPU only; ``make_searcher`` sets it where faiss is installed); otherwise with torch blocks.

    Shapes:
        x: ``(N, D)``.
    """

    name = "cells"

    def __init__(self, x: torch.Tensor, seed: int = 0, *, dense_faiss: bool = False) -> None:
        if dense_faiss and x.device.type != "cpu":
            raise ValueError(f"dense_faiss searches on the CPU, but the points are on {x.device}")
        self.device = x.device
        self.dense_faiss = dense_faiss
        self._faiss_index: Any = None  # the dense fallback's flat FAISS index of ``x``, built on first use
        self.center = x.mean(dim=0)
        xc = (x - self.center).contiguous()
        n = len(xc)
        n_cells = max(1, min(MAX_CELLS, n // CELL_SIZE))
        centroids = self._kmeans(xc, n_cells, seed)
        cell = self._nearest(xc, centroids)
        order = cell.argsort(stable=True)
        counts = torch.bincount(cell, minlength=n_cells)
        self.perm = order
        self.x = xc[order].contiguous()
        self.x_sq = self.x.square().sum(1)
        self.offsets = [0, *counts.cumsum(0).tolist()]  # cell c's members: rows offsets[c]:offsets[c + 1]
        sorted_cell = cell[order]
        self.centroids = centroids
        self.c_sq = centroids.square().sum(1)
        member_d = (self.x - centroids[sorted_cell]).square().sum(1).sqrt()
        self.cell_radius = torch.zeros(n_cells, device=self.device).scatter_reduce_(
            0, sorted_cell, member_d, reduce="amax", include_self=True)
        self.max_sq = float(self.x_sq.max()) if n else 0.0
        self.max_c_sq = float(self.c_sq.max()) if n else 0.0

    def _kmeans(self, x: torch.Tensor, n_cells: int, seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(seed)
        n = len(x)
        sample = x[torch.randperm(n, generator=generator)[: n_cells * KMEANS_SAMPLE_PER_CELL].to(self.device)]
        centroids = sample[:n_cells].clone()
        for _ in range(KMEANS_ROUNDS):
            label = self._nearest(sample, centroids)
            sums = torch.zeros_like(centroids).index_add_(0, label, sample)
            counts = torch.bincount(label, minlength=n_cells).unsqueeze(1)
            centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
        return centroids

    @staticmethod
    def _nearest(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
        c_sq = centroids.square().sum(1)
        return torch.cat([
            torch.addmm(c_sq.unsqueeze(0), x[s : s + BLOCK_QUERIES], centroids.T, beta=1.0, alpha=-2.0).argmin(1)
            for s in range(0, len(x), BLOCK_QUERIES)
        ]) if len(x) else torch.zeros(0, dtype=torch.int64, device=x.device)

    def default_chunk_size(self) -> int:
        # the cell loop runs once per chunk: big chunks amortise it; memory is bounded inside
        return 1 << 18

    def _probes(
        self, q: torch.Tensor, q_max_sq: float, reach: torch.Tensor, dense_limit: float | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(query, cell) pairs with a lower bound of ``|q - c|`` within ``R_c + reach_q``, ordered by cell
        (``q_max_sq``: the largest squared norm of the centred queries), and which queries reach more
        than ``dense_limit`` cells (their pairs left out; None: no limit, no query is).

        Shapes: rows, cells ``(P,)``; dense ``(m,)`` bool.
        """
        slack = expansion_slack(self.max_c_sq, q_max_sq, q.size(1))
        rows, cells, dense = [], [], []
        for s in range(0, len(q), BLOCK_QUERIES):
            d2 = _sq_dist(q[s : s + BLOCK_QUERIES], self.centroids, self.c_sq)
            lower = (d2 - slack).clamp_(min=0).sqrt_()
            near = lower <= self.cell_radius.unsqueeze(0) + reach[s : s + BLOCK_QUERIES].unsqueeze(1)
            far = near.sum(1) > dense_limit if dense_limit is not None else near.new_zeros(len(near))
            near[far] = False
            r, c = near.nonzero(as_tuple=True)
            rows.append(r + s)
            cells.append(c)
            dense.append(far)
        rows, cells = torch.cat(rows), torch.cat(cells)
        order = cells.argsort(stable=True)
        return rows[order], cells[order], torch.cat(dense)

    def _blocks(
        self, q: torch.Tensor, rows: torch.Tensor, cells: torch.Tensor
    ) -> Iterator[tuple[int, int, torch.Tensor, int, torch.Tensor]]:
        """For each probed cell: ``(lo, hi, query ids, first member, squared distances)``.

        Shapes: rows, cells: ``(P,)`` ordered by cell; the distances ``(hi - lo, cell size)``.
        """
        bounds = torch.searchsorted(cells, torch.arange(len(self.centroids) + 1, device=self.device)).tolist()
        for cell in range(len(self.centroids)):
            lo, hi = bounds[cell], bounds[cell + 1]
            if lo == hi:
                continue
            start, stop = self.offsets[cell], self.offsets[cell + 1]
            query_ids = rows[lo:hi]
            yield lo, hi, query_ids, start, _sq_dist(q[query_ids], self.x[start:stop], self.x_sq[start:stop])

    def _pairs(
        self, q: torch.Tensor, rows: torch.Tensor, cells: torch.Tensor, reach: torch.Tensor, slack: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Every (query, database point, squared distance) within ``reach_q`` (squared, widened by
        ``slack``) in the probed cells."""
        limit = reach.square() + slack
        out_q, out_j, out_d = [], [], []
        for _, _, query_ids, start, d2 in self._blocks(q, rows, cells):
            i, j = (d2 <= limit[query_ids].unsqueeze(1)).nonzero(as_tuple=True)
            out_q.append(query_ids[i])
            out_j.append(j + start)
            out_d.append(d2[i, j])
        if not out_q:
            empty = torch.zeros(0, dtype=torch.int64, device=self.device)
            return empty, empty, torch.zeros(0, device=self.device)
        return torch.cat(out_q), self.perm[torch.cat(out_j)], torch.cat(out_d)

    def _centred(self, query: torch.Tensor) -> tuple[torch.Tensor, float, float]:
        """The centred queries, their largest squared norm and the slack of their squared distances to members."""
        q = (query - self.center).contiguous()
        q_max_sq = float(q.square().sum(1).max())
        return q, q_max_sq, expansion_slack(self.max_sq, q_max_sq, q.size(1))

    def radius(self, query: torch.Tensor, r: float) -> tuple[torch.Tensor, torch.Tensor]:
        q, q_max_sq, slack = self._centred(query)
        reach = torch.full((len(q),), float(r), device=self.device)
        rows, cells, _ = self._probes(q, q_max_sq, reach)
        qi, j, _ = self._pairs(q, rows, cells, reach, slack)
        return qi, j

    def knn(self, query: torch.Tensor, k: int, max_distance: float | None = None) -> torch.Tensor:
        q, q_max_sq, slack = self._centred(query)
        m = len(q)
        # 1. an upper bound of each query's k-th distance: the k-th nearest member of its nearest cells
        n_probe = min(KNN_PROBE_CELLS, len(self.centroids))
        near = torch.cat([
            _sq_dist(q[s : s + BLOCK_QUERIES], self.centroids, self.c_sq).topk(n_probe, dim=1, largest=False).indices
            for s in range(0, m, BLOCK_QUERIES)
        ]).reshape(-1)
        order = near.argsort(stable=True)
        rows = torch.arange(m, device=self.device).repeat_interleave(n_probe)[order]
        slot = torch.arange(n_probe, device=self.device).repeat(m)[order]
        nearest = torch.full((m, n_probe * k), math.inf, device=self.device)
        for lo, hi, query_ids, _, d2 in self._blocks(q, rows, near[order]):
            kk = min(k, d2.size(1))
            columns = slot[lo:hi].unsqueeze(1) * k + torch.arange(kk, device=self.device)
            nearest[query_ids.unsqueeze(1), columns] = d2.topk(kk, dim=1, largest=False).values
        reach = (nearest.kthvalue(k, dim=1).values + slack).sqrt_()  # rounding never shrinks it below the true k-th
        if max_distance is not None:
            reach = reach.clamp(max=float(max_distance))
        # 2. the exact answer: a radius search at each query's bound, its k nearest kept; queries whose
        # bound reaches many cells are compared with every point instead (step 3)
        rows, cells, dense = self._probes(q, q_max_sq, reach, DENSE_PROBE_FRACTION * len(self.centroids))
        qi, j, d2 = self._pairs(q, rows, cells, reach, slack)
        # by query, then distance (points tied at the k-th distance: any of them, as with every backend)
        top = d2.double()
        order = (qi.to(torch.float64) * (2.0 * float(top.max()) + 1.0) + top).argsort() if len(qi) else qi
        qi, j = qi[order], j[order]
        counts = torch.bincount(qi, minlength=m)
        rank = torch.arange(len(qi), device=qi.device) - (counts.cumsum(0) - counts)[qi]
        keep = rank < k
        out = torch.full((m, k), -1, dtype=torch.int64, device=qi.device)
        out[qi[keep], rank[keep]] = j[keep]
        # 3. the dense queries: the k nearest of every point (FAISS's flat index on the CPU where installed)
        dense_ids = dense.nonzero().squeeze(1)
        if len(dense_ids):
            out[dense_ids, : min(k, len(self.x))] = self.perm[self._dense_knn(q[dense_ids], k)]
        return out

    def _dense_knn(self, q: torch.Tensor, k: int) -> torch.Tensor:
        """Rows of ``self.x`` holding each centred query's ``min(k, N)`` nearest points, compared with all.

        Shapes: q ``(m, D)`` -> ``(m, min(k, N))`` int64.
        """
        kk = min(k, len(self.x))
        if self.dense_faiss:
            import faiss

            if self._faiss_index is None:  # built once per searcher: its points never change
                self._faiss_index = faiss.IndexFlatL2(self.x.size(1))
                self._faiss_index.add(self.x.numpy())
            return torch.from_numpy(self._faiss_index.search(q.numpy(), kk)[1])
        step = max(1, DENSE_BLOCK_ELEMENTS // max(1, len(self.x)))
        return torch.cat([
            _sq_dist(q[s : s + step], self.x, self.x_sq).topk(kk, dim=1, largest=False).indices
            for s in range(0, len(q), step)
        ])
