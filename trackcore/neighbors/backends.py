"""Backend names, which of them this machine can run, and the choice behind ``backend="auto"``."""

from __future__ import annotations

import functools
import importlib.util
from typing import Protocol

import torch

BACKENDS: tuple[str, ...] = ("faiss-gpu", "faiss-cpu", "torch", "kdtree")
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
    """Backends this machine can run, in order of preference (``"torch"`` always)."""
    usable = {
        "faiss-gpu": faiss_gpu_available(),
        "faiss-cpu": faiss_cpu_available(),
        "torch": True,
        "kdtree": kdtree_available(),
    }
    return [name for name in BACKENDS if usable[name]]


KDTREE_RADIUS_MAX_DIM = 16
"""On the CPU, ``"auto"`` radius searches in at most this many dimensions use the KD-tree."""

KDTREE_KNN_MIN_POINTS = 32_768
"""On the CPU, ``"auto"`` kNN searches of at least this many database points (in at most
:data:`KDTREE_KNN_MAX_DIM` dimensions) use the KD-tree: FAISS's flat index is N^2, the tree ~N log N."""
KDTREE_KNN_MAX_DIM = 32
"""See :data:`KDTREE_KNN_MIN_POINTS`."""


def resolve_backend(
    backend: str,
    device: torch.device | str,
    *,
    radius_dim: int | None = None,
    knn_shape: tuple[int, int] | None = None,
) -> str:
    """The concrete backend that will search points living on ``device``.

    ``"auto"`` picks ``"faiss-gpu"`` for CUDA points when faiss has GPU support, else ``"torch"`` for
    CUDA points (exact, stays on the GPU). On the CPU it picks ``"faiss-cpu"`` (else ``"torch"`` without
    faiss), except for a radius search (``radius_dim`` given: the points' dimension) in at most
    :data:`KDTREE_RADIUS_MAX_DIM` dimensions, which uses ``"kdtree"`` when scipy is installed: the radius
    prunes the tree walk, while FAISS's flat index compares every pair (N^2). Measured on the trained
    metric-learning embeddings (12-d, r = 0.1, cap 100, 1 thread): 4,029 real pT > 1 GeV pixel hits
    0.22 s -> 0.06 s, 48,006 real pixel hits 6.5 s -> 1.2 s. A kNN search (``knn_shape``: the
    database's ``(N, D)``) uses the KD-tree from :data:`KDTREE_KNN_MIN_POINTS` points in at most
    :data:`KDTREE_KNN_MAX_DIM` dimensions, FAISS below: on EggNet's trained 24-d embeddings (k = 10,
    2 threads) FAISS wins up to ~16k points (4k: 51 ms vs 139 ms) and the tree from ~32k (32k:
    1.05 s vs 0.82 s; a 90k-hit full-density event: 7.4-8.2 s vs 0.9-2.1 s).
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
        if radius_dim is not None and radius_dim <= KDTREE_RADIUS_MAX_DIM and kdtree_available():
            return "kdtree"
        if (knn_shape is not None and knn_shape[0] >= KDTREE_KNN_MIN_POINTS and knn_shape[1] <= KDTREE_KNN_MAX_DIM
                and kdtree_available()):
            return "kdtree"
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
    raise ValueError(f"backend {backend!r} is not resolved; call resolve_backend first")


def compute_device(backend: str, device: torch.device) -> torch.device:
    """Where ``backend`` searches points that live on ``device`` (host backends search on the CPU)."""
    return torch.device("cpu") if backend in ("faiss-cpu", "kdtree") else device
