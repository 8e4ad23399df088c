"""Backend names, which of them this machine can run, and the choice behind ``backend="auto"``."""

from __future__ import annotations

import functools
import importlib.util
from typing import Protocol

import torch

BACKENDS: tuple[str, ...] = ("faiss-gpu", "faiss-cpu", "torch", "kdtree", "cells")
"""Every backend name, in order of preference."""


class Searcher(Protocol):
    """What a backend provides to the chunked search loop (``search.py``).

    A searcher owns a prepared database (an index, a tree, a centred copy) and answers one chunk of
    queries at a time, on its own device. Candidates may be a superset of the exact answer near the
    boundary: the loop recomputes every candidate's distance in one way and filters and sorts on it,
    so all backends mean the same thing by "distance" and "within r".
    """

    name: str
    device: torch.device

    def default_chunk_size(self) -> int:
        """Queries per chunk when the caller gives no ``chunk_size``."""
        ...

    def knn(self, query: torch.Tensor, k: int, max_distance: float | None = None) -> torch.Tensor:
        """Indices of the ``k`` nearest database points of each query, ``-1`` where there are fewer.

        ``max_distance`` is a hint: a backend may leave out points farther than it (the KD-tree prunes
        with it), or ignore it. Shapes: query ``(m, D)`` -> ``(m, k)`` int64.
        """
        ...

    def radius(self, query: torch.Tensor, r: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Candidate pairs ``(row, col)``: every database point ``col`` within ``r`` of query ``row``
        (a few slightly farther are allowed). Shapes: query ``(m, D)`` -> two ``(C,)`` int64."""
        ...


@functools.cache
def faiss_cpu_available() -> bool:
    """Whether ``import faiss`` would work (checked without importing it)."""
    return importlib.util.find_spec("faiss") is not None


@functools.cache
def faiss_gpu_available() -> bool:
    """Whether faiss was built with GPU support and sees a GPU, and torch sees CUDA."""
    if not (faiss_cpu_available() and torch.cuda.is_available()):
        return False
    import faiss

    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


@functools.cache
def kdtree_available() -> bool:
    """Whether scipy (for ``cKDTree``) is installed."""
    return importlib.util.find_spec("scipy") is not None


def available_backends() -> list[str]:
    """Backends this machine can run, in order of preference (``"torch"`` and ``"cells"`` always: plain torch)."""
    usable = {
        "faiss-gpu": faiss_gpu_available(),
        "faiss-cpu": faiss_cpu_available(),
        "torch": True,
        "kdtree": kdtree_available(),
        "cells": True,
    }
    return [name for name in BACKENDS if usable[name]]


KDTREE_MAX_DIM = 16
"""On the CPU, ``"auto"`` uses the KD-tree for radius searches in at most this many dimensions, and
for large kNN searches (see :data:`KDTREE_KNN_MIN_POINTS`) too."""
KDTREE_KNN_MIN_POINTS = 32_768
"""On the CPU, ``"auto"`` kNN searches of at least this many database points in at most
:data:`KDTREE_MAX_DIM` dimensions use the KD-tree: FAISS's flat index is N^2, the tree ~N log N."""
CELLS_MIN_POINTS = 16_384
"""On the CPU, ``"auto"`` searches (kNN or radius) of at least this many database points in more than
:data:`KDTREE_MAX_DIM` dimensions use the exact cell search (:mod:`trackcore.neighbors.cell_search`)."""


def resolve_backend(
    backend: str,
    device: torch.device | str,
    *,
    radius_shape: tuple[int, int] | None = None,
    knn_shape: tuple[int, int] | None = None,
) -> str:
    """The concrete backend that will search points living on ``device``.

    ``"auto"`` picks ``"faiss-gpu"`` for CUDA points when faiss has GPU support, else ``"torch"`` for
    CUDA points (exact, stays on the GPU). On the CPU, given the database's ``(N, D)`` of a radius
    search (``radius_shape``) or a kNN search (``knn_shape``):

    - in at most :data:`KDTREE_MAX_DIM` dimensions, every radius search and kNN searches from
      :data:`KDTREE_KNN_MIN_POINTS` points use ``"kdtree"`` (scipy installed): the radius prunes the
      tree walk, while FAISS's flat index compares every pair (N^2) (timings on the metric-learning
      embeddings in the README, "trackcore.neighbors");
    - in more dimensions, from :data:`CELLS_MIN_POINTS` points, ``"cells"``: a KD-tree in 24 dimensions
      is fast only while the points are tightly clustered, and degrades past brute force on spread-out
      ones (EggNet's embedding between iterations at TrackML density; timings in the README,
      "trackcore.neighbors");
    - otherwise ``"faiss-cpu"`` (``"torch"`` without faiss).
    A named backend is checked and returned as is. ``"faiss-cpu"`` and ``"kdtree"`` search on the host:
    CUDA points are copied there and the graph copied back.

    Raises:
        ValueError: unknown name, or a backend this machine or device cannot run.
    """
    device = torch.device(device)
    is_cuda = device.type == "cuda"
    if backend == "auto":
        if is_cuda:
            return "faiss-gpu" if faiss_gpu_available() else "torch"
        shape = radius_shape if radius_shape is not None else knn_shape
        if shape is not None:
            num_points, dim = shape
            if dim <= KDTREE_MAX_DIM and kdtree_available() and (
                    radius_shape is not None or num_points >= KDTREE_KNN_MIN_POINTS):
                return "kdtree"
            if dim > KDTREE_MAX_DIM and num_points >= CELLS_MIN_POINTS:
                return "cells"
        return "faiss-cpu" if faiss_cpu_available() else "torch"
    if backend not in BACKENDS:
        choices = ", ".join(repr(b) for b in ("auto", *BACKENDS))
        raise ValueError(f"unknown neighbour-search backend {backend!r}; choose one of {choices}")
    if backend == "faiss-gpu":
        if not is_cuda:
            raise ValueError(f"backend 'faiss-gpu' needs CUDA tensors, but the points are on {device}")
        if not torch.cuda.is_available():
            raise ValueError("backend 'faiss-gpu' requested but CUDA is unavailable to torch")
        if not faiss_gpu_available():
            raise ValueError(
                "backend 'faiss-gpu' requested but faiss has no GPU support or sees no GPU "
                "(install faiss-gpu-cu12, the 'gpu' extra), or use backend='torch' for CUDA tensors"
            )
    if backend == "faiss-cpu" and not faiss_cpu_available():
        raise ValueError("backend 'faiss-cpu' requested but faiss is not installed (pip install faiss-cpu)")
    if backend == "kdtree" and not kdtree_available():
        raise ValueError("backend 'kdtree' requested but scipy is not installed (pip install scipy)")
    return backend


def make_searcher(backend: str, x: torch.Tensor) -> Searcher:
    """A searcher of a resolved ``backend`` over the database ``x`` (float32, on the searcher's device)."""
    if backend == "torch":
        from trackcore.neighbors.torch_search import TorchSearcher

        return TorchSearcher(x)
    if backend == "faiss-cpu":
        from trackcore.neighbors.faiss_search import FaissCpuSearcher

        return FaissCpuSearcher(x)
    if backend == "faiss-gpu":
        from trackcore.neighbors.faiss_search import FaissGpuSearcher

        return FaissGpuSearcher(x)
    if backend == "kdtree":
        from trackcore.neighbors.kdtree_search import KDTreeSearcher

        return KDTreeSearcher(x)
    if backend == "cells":
        from trackcore.neighbors.cell_search import CellSearcher

        return CellSearcher(x, dense_faiss=x.device.type == "cpu" and faiss_cpu_available())
    raise ValueError(f"backend {backend!r} is not resolved; call resolve_backend first")


def compute_device(backend: str, device: torch.device) -> torch.device:
    """Where ``backend`` searches points that live on ``device`` (host backends search on the CPU)."""
    return torch.device("cpu") if backend in ("faiss-cpu", "kdtree") else device
