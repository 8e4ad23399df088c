"""The one result type of every neighbour search: a COO edge list with Euclidean distances."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class NeighborGraph:
    """A directed neighbour graph from a database to a set of queries.

    Every backend returns this, with the same meaning: ``distance`` is the plain Euclidean distance
    (never squared), and edges are grouped by query in ascending query order and, within a query,
    sorted by ascending distance (ties by ascending neighbour index).

    Args:
        edge_index: ``edge_index[0]`` is the neighbour (source, an index into the database),
            ``edge_index[1]`` the query (target, centre; an index into the queries, which are the
            database itself when no separate query set was given). PyG's ``flow="source_to_target"``.
        distance: Euclidean distance of each edge.
        num_queries: number of query points ``M``.
        num_database: number of database points ``N``.
        backend: name of the backend that produced the graph (see :func:`available_backends`).

    Shapes:
        edge_index: ``(2, E)`` int64; distance: ``(E,)`` float32, on the same device.
    """

    edge_index: torch.Tensor
    distance: torch.Tensor
    num_queries: int
    num_database: int
    backend: str

    def __post_init__(self) -> None:
        ei, dist = self.edge_index, self.distance
        if not isinstance(ei, torch.Tensor) or not isinstance(dist, torch.Tensor):
            raise TypeError(
                f"Expected 'edge_index' and 'distance' to be torch tensors "
                f"(got {type(ei).__name__} and {type(dist).__name__})"
            )
        if ei.dim() != 2 or ei.size(0) != 2:
            raise ValueError(f"Expected 'edge_index' to have shape (2, E) (got {tuple(ei.shape)})")
        if ei.dtype != torch.int64:
            raise ValueError(f"Expected 'edge_index' to be of type torch.int64 (got {ei.dtype})")
        if dist.dim() != 1:
            raise ValueError(f"Expected 'distance' to be one-dimensional (got {dist.dim()} dimensions)")
        if dist.dtype != torch.float32:
            raise ValueError(f"Expected 'distance' to be of type torch.float32 (got {dist.dtype})")
        if dist.numel() != ei.size(1):
            raise ValueError(
                f"Expected 'distance' to hold one entry per edge ({ei.size(1)} edges, got {dist.numel()} entries)"
            )
        if dist.device != ei.device:
            raise ValueError(f"Expected 'edge_index' and 'distance' on one device (got {ei.device} and {dist.device})")
        for name in ("num_queries", "num_database"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Expected '{name}' to be a non-negative int (got {value!r})")
        if ei.size(1) > 0:
            lo, hi = ei.min(dim=1).values.tolist(), ei.max(dim=1).values.tolist()
            if lo[0] < 0 or hi[0] >= self.num_database:
                raise ValueError(
                    f"Expected 'edge_index[0]' to index the database, in [0, {self.num_database}) "
                    f"(got values in [{lo[0]}, {hi[0]}])"
                )
            if lo[1] < 0 or hi[1] >= self.num_queries:
                raise ValueError(
                    f"Expected 'edge_index[1]' to index the queries, in [0, {self.num_queries}) "
                    f"(got values in [{lo[1]}, {hi[1]}])"
                )

    @property
    def num_edges(self) -> int:
        """Number of edges ``E``."""
        return self.edge_index.size(1)

    def degree(self) -> torch.Tensor:
        """Number of neighbours found for each query.

        Shapes:
            output: ``(num_queries,)`` int64.
        """
        return torch.bincount(self.edge_index[1], minlength=self.num_queries)

    def to(self, device: torch.device | str) -> NeighborGraph:
        """The same graph with its tensors on ``device``."""
        return NeighborGraph(
            edge_index=self.edge_index.to(device),
            distance=self.distance.to(device),
            num_queries=self.num_queries,
            num_database=self.num_database,
            backend=self.backend,
        )
