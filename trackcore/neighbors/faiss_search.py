"""Exact search with FAISS flat (brute-force) L2: ``IndexFlatL2`` on the CPU, ``bfKnn`` on the GPU.

FAISS works with squared L2: ``IndexFlatL2`` returns squared distances and ``range_search`` takes the
squared radius. Only candidate indices leave this module; distances are recomputed in ``edges.py``,
so a caller never sees a squared distance and always passes a plain radius.
"""

from __future__ import annotations

import numpy as np
import torch

from trackcore.neighbors.torch_search import expansion_slack

FAISS_CPU_CHUNK = 1 << 15
"""Queries per chunk on the CPU: bounds the result arrays; FAISS blocks the BLAS work itself."""
FAISS_GPU_CHUNK = 1 << 16
FAISS_GPU_MAX_K = 2048
"""Largest k FAISS GPU brute-force selection supports."""

_gpu_resources: dict[int, object] = {}


def _as_numpy(t: torch.Tensor) -> np.ndarray:
    """Float32 C-contiguous view of a CPU tensor (no copy when it already is one)."""
    return np.ascontiguousarray(t.detach().numpy(), dtype=np.float32)


class FaissCpuSearcher:
    """FAISS ``IndexFlatL2`` over the centred database (exact; multithreaded through OpenMP).

    Centring keeps FAISS's ``|q|^2 + |x|^2 - 2 q.x`` precise for data far from the origin.
    FAISS is fastest with ``OPENBLAS_NUM_THREADS=1`` (its own OpenMP threads then do not fight
    OpenBLAS's), set before numpy is first imported.

    Shapes:
        x: ``(N, D)`` float32 on the CPU.
    """

    name = "faiss-cpu"

    def __init__(self, x: torch.Tensor) -> None:
        import faiss

        self.device = torch.device("cpu")
        self.center = x.mean(dim=0)
        xc = x - self.center
        self.max_sq = float(xc.square().sum(dim=1).max()) if len(x) else 0.0
        self.index = faiss.IndexFlatL2(x.size(1))
        self.index.add(_as_numpy(xc))

    def default_chunk_size(self) -> int:
        return FAISS_CPU_CHUNK

    def _centred(self, query: torch.Tensor) -> np.ndarray:
        return _as_numpy(query - self.center)

    def knn(self, query: torch.Tensor, k: int, max_distance: float | None = None) -> torch.Tensor:
        _, idx = self.index.search(self._centred(query), k)
        return torch.from_numpy(idx)

    def radius(self, query: torch.Tensor, r: float) -> tuple[torch.Tensor, torch.Tensor]:
        q = self._centred(query)
        max_q_sq = float(np.square(q).sum(axis=1).max()) if len(q) else 0.0
        squared_radius = r * r + expansion_slack(self.max_sq, max_q_sq, q.shape[1])
        lims, _, idx = self.index.range_search(q, squared_radius)
        rows = np.repeat(np.arange(len(q), dtype=np.int64), np.diff(lims.astype(np.int64)))
        return torch.from_numpy(rows), torch.from_numpy(idx.astype(np.int64, copy=False))


def _resources(device_index: int) -> object:
    """One ``StandardGpuResources`` per GPU, made on first use (it reserves scratch memory)."""
    import faiss

    if device_index not in _gpu_resources:
        _gpu_resources[device_index] = faiss.StandardGpuResources()
    return _gpu_resources[device_index]


class FaissGpuSearcher:
    """FAISS brute-force kNN on the GPU (``faiss.knn_gpu`` on torch CUDA tensors, no index copy).

    FAISS GPU flat search has no range search, so uncapped radius graphs use the torch backend on the
    same GPU (``radius_graph`` reports ``backend="torch"`` then); capped ones use kNN here.

    Shapes:
        x: ``(N, D)`` float32 on a CUDA device.
    """

    name = "faiss-gpu"

    def __init__(self, x: torch.Tensor) -> None:
        import faiss.contrib.torch_utils  # noqa: F401  (lets faiss.knn_gpu take torch CUDA tensors)

        self.device = x.device
        self.center = x.mean(dim=0)
        self.x = (x - self.center).contiguous()
        self.res = _resources(x.device.index if x.device.index is not None else torch.cuda.current_device())

    def default_chunk_size(self) -> int:
        return FAISS_GPU_CHUNK

    def knn(self, query: torch.Tensor, k: int, max_distance: float | None = None) -> torch.Tensor:
        import faiss

        if k > FAISS_GPU_MAX_K:
            raise ValueError(
                f"backend 'faiss-gpu' supports at most {FAISS_GPU_MAX_K} neighbours per query (asked for {k}); "
                "use backend='torch' for larger k"
            )
        q = (query - self.center).contiguous()
        with torch.cuda.device(self.device):
            _, idx = faiss.knn_gpu(self.res, q, self.x, k, device=self.device.index)
        return idx

    def radius(self, query: torch.Tensor, r: float) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError("faiss-gpu has no range search; radius_graph uses the torch backend instead")
