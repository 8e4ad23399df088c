"""Exact neighbour graphs (kNN and radius) behind one interface, on FAISS, torch, a KD-tree or k-means cells.

Every backend returns a :class:`NeighborGraph` with plain Euclidean distances and the same edge order,
so the backend is a speed and device choice, never a change of meaning.

Usage (``x``: ``(N, D)`` float tensor; ``edge_index[0]`` neighbour, ``edge_index[1]`` query)::

    from trackcore.neighbors import knn_graph, radius_graph

    graph = knn_graph(x, k=20)
    graph = radius_graph(x, r=0.1, max_num_neighbors=64)
"""

from trackcore.neighbors.backends import available_backends, resolve_backend
from trackcore.neighbors.knn import knn_graph
from trackcore.neighbors.output import NeighborGraph
from trackcore.neighbors.radius import radius_graph
from trackcore.neighbors.torch_search import torch_chunk_size

__all__ = [
    "NeighborGraph",
    "available_backends",
    "knn_graph",
    "radius_graph",
    "resolve_backend",
    "torch_chunk_size",
]
