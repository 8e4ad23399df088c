"""Maximum-weight bipartite matching with opt-out (scipy's LAPJVsp), split into independent blocks.

Shared by the bipartite loss (:mod:`trackcore.losses.bipartite`) and the ``"matching"``
soft-to-hard assignment (:mod:`trackcore.builders.assignment`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, min_weight_full_bipartite_matching

_CHUNK_ROWS = 2048
"""Small components are batched into chunks of about this many rows, one solver call per chunk."""


def max_weight_matching(row_e: np.ndarray, column_e: np.ndarray, weight_e: np.ndarray) -> np.ndarray:
    """Positions of the edges of a maximum-weight (not necessarily full) bipartite matching.

    LAPJVsp scales about quadratically with the matrix size even when the matrix is
    block-diagonal, so the graph is split into connected components, and small components are
    batched into chunks of about ``_CHUNK_ROWS`` rows, one solver call per chunk.
    """
    _, r_e = np.unique(row_e, return_inverse=True)
    _, c_e = np.unique(column_e, return_inverse=True)
    n_rows = int(r_e.max()) + 1
    n_nodes = n_rows + int(c_e.max()) + 1
    graph = sp.csr_matrix((np.ones(r_e.size, np.int8), (r_e, n_rows + c_e)), shape=(n_nodes, n_nodes))
    _, component = connected_components(graph, directed=False)
    rows_c = np.bincount(component[:n_rows])
    chunk_c = np.cumsum(rows_c) // _CHUNK_ROWS
    chunk_e = chunk_c[component[r_e]]
    order = np.argsort(chunk_e, kind="stable")
    bounds = np.flatnonzero(np.diff(chunk_e[order])) + 1
    return np.concatenate([block[_solve(r_e[block], c_e[block], weight_e[block])] for block in np.split(order, bounds)])


def _solve(row_e: np.ndarray, column_e: np.ndarray, weight_e: np.ndarray) -> np.ndarray:
    """One LAPJVsp call on a square "matching with opt-out" matrix; positions of the matched edges.

    Rows are the hits then one dummy per column; columns are the real columns then one dummy
    per hit. Cost of a real edge ``c - w`` and of a hit's own dummy ``c`` (``c = max(w) + 1``,
    so every entry is non-zero as LAPJVsp needs); dummy rows cost 1 on their own column and on
    the dummy of every hit adjacent to it, whatever the matching they contribute a constant.
    Minimising the total cost therefore maximises the matched weight.
    """
    _, r_e = np.unique(row_e, return_inverse=True)
    _, c_e = np.unique(column_e, return_inverse=True)
    n_rows, n_cols = int(r_e.max()) + 1, int(c_e.max()) + 1
    c = float(weight_e.max()) + 1.0
    data = np.concatenate([c - weight_e, np.full(n_rows, c), np.ones(n_cols), np.ones(r_e.size)])
    r = np.concatenate([r_e, np.arange(n_rows), n_rows + np.arange(n_cols), n_rows + c_e])
    col = np.concatenate([c_e, n_cols + np.arange(n_rows), np.arange(n_cols), n_cols + r_e])
    size = n_rows + n_cols
    row_m, col_m = min_weight_full_bipartite_matching(sp.csr_matrix((data, (r, col)), shape=(size, size)))
    real = (row_m < n_rows) & (col_m < n_cols)
    code_e = r_e * n_cols + c_e
    order = np.argsort(code_e)
    return order[np.searchsorted(code_e[order], row_m[real] * n_cols + col_m[real])]
