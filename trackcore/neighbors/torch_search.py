"""Exact brute-force search in plain torch, chunked so memory stays bounded; CPU or CUDA."""

from __future__ import annotations

import torch

DEFAULT_BUDGET_BYTES = 256 * 2**20
"""Memory allowed for one chunk's ``(chunk, N)`` float32 distance block."""

_FLOAT32_EPS = float(torch.finfo(torch.float32).eps)


def torch_chunk_size(num_database: int, budget_bytes: int = DEFAULT_BUDGET_BYTES, bytes_per_entry: int = 4) -> int:
    """Queries per chunk so that the ``(chunk, num_database)`` distance block fits in ``budget_bytes``.

    At least 1 (a single query row over a huge database may exceed the budget; nothing smaller exists).

    Shapes:
        the block: ``(chunk, num_database)`` of ``bytes_per_entry`` bytes, ``<= budget_bytes``.
    """
    if budget_bytes <= 0 or bytes_per_entry <= 0:
        raise ValueError(f"budget_bytes and bytes_per_entry must be positive (got {budget_bytes}, {bytes_per_entry})")
    return max(1, budget_bytes // (max(num_database, 1) * bytes_per_entry))


def expansion_slack(max_sq_norm_x: float, max_sq_norm_q: float, dim: int) -> float:
    """Bound on the float32 error of ``|q|^2 + |x|^2 - 2 q.x`` (how FAISS and torch get squared distances).

    The expansion loses precision when the points are far from the origin (hence the centring in the
    searchers); radius searches widen the squared radius by this much and filter exactly afterwards.
    """
    return 4.0 * (dim + 2) * _FLOAT32_EPS * (max_sq_norm_x + max_sq_norm_q) + 1e-30


class TorchSearcher:
    """Exact search with ``addmm`` distance blocks: ``(chunk, N)`` distances, then top-k or a mask.

    The database is centred on its mean first: distances do not change, and the squared-norm expansion
    stays precise for data far from the origin (detector coordinates in mm).

    Args:
        x: database, float32, on the device to search on.
        budget_bytes: memory for one chunk's distance block (see :func:`torch_chunk_size`); None for
            ``DEFAULT_BUDGET_BYTES`` (256 MiB).

    Shapes:
        x: ``(N, D)``.
    """

    name = "torch"

    def __init__(self, x: torch.Tensor, budget_bytes: int | None = None) -> None:
        self.device = x.device
        self.budget_bytes = DEFAULT_BUDGET_BYTES if budget_bytes is None else budget_bytes
        self.center = x.mean(dim=0)
        self.x = (x - self.center).contiguous()
        self.x_sq = self.x.square().sum(dim=1)
        self.max_sq = float(self.x_sq.max()) if len(x) else 0.0

    def default_chunk_size(self) -> int:
        # 5 bytes per entry: the float32 block plus the boolean mask of a radius search
        return torch_chunk_size(len(self.x), self.budget_bytes, bytes_per_entry=5)

    def _partial_distances(self, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # |x|^2 - 2 q.x: the squared distance less |q|^2, which is constant along a row, so ranking
        # needs no further pass over the block, and a radius test moves |q|^2 to the threshold
        q = query - self.center
        block = torch.addmm(self.x_sq.unsqueeze(0), q, self.x.T, beta=1.0, alpha=-2.0)
        return block, q.square().sum(dim=1)

    def knn(self, query: torch.Tensor, k: int, max_distance: float | None = None) -> torch.Tensor:
        block, _ = self._partial_distances(query)
        return block.topk(k, dim=1, largest=False, sorted=False).indices

    def radius(self, query: torch.Tensor, r: float) -> tuple[torch.Tensor, torch.Tensor]:
        block, q_sq = self._partial_distances(query)
        max_q_sq = float(q_sq.max()) if len(q_sq) else 0.0
        threshold = (r * r + expansion_slack(self.max_sq, max_q_sq, self.x.size(1))) - q_sq
        rows, cols = (block <= threshold.unsqueeze(1)).nonzero(as_tuple=True)
        return rows, cols
