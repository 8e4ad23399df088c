from __future__ import annotations

import re

import pytest
import torch

from trackcore.neighbors import available_backends, backends, knn_graph, resolve_backend


def test_available_backends_on_this_machine() -> None:
    names = available_backends()
    assert names[-4:] == ["faiss-cpu", "torch", "kdtree", "cells"]  # every CPU backend's library is a dependency
    assert ("faiss-gpu" in names) == backends.faiss_gpu_available()


def test_auto_picks_by_device(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_backend("auto", "cpu") == "faiss-cpu"
    monkeypatch.setattr(backends, "faiss_gpu_available", lambda: False)
    assert resolve_backend("auto", "cuda") == "torch"
    monkeypatch.setattr(backends, "faiss_gpu_available", lambda: True)
    assert resolve_backend("auto", torch.device("cuda", 0)) == "faiss-gpu"
    monkeypatch.setattr(backends, "faiss_cpu_available", lambda: False)
    assert resolve_backend("auto", "cpu") == "torch"


def test_auto_on_cpu_picks_by_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    from trackcore.neighbors import radius_graph

    low = backends.KDTREE_MAX_DIM
    assert resolve_backend("auto", "cpu", radius_shape=(50, 12)) == "kdtree"  # any radius search in few dims
    assert resolve_backend("auto", "cpu", radius_shape=(10**6, low)) == "kdtree"
    assert resolve_backend("auto", "cpu", radius_shape=(backends.CELLS_MIN_POINTS - 1, low + 1)) == "faiss-cpu"
    assert resolve_backend("auto", "cpu", radius_shape=(backends.CELLS_MIN_POINTS, low + 1)) == "cells"
    assert radius_graph(torch.rand(50, 3), 0.3, max_num_neighbors=4).backend == "kdtree"
    assert radius_graph(torch.rand(50, 24), 0.3).backend == "faiss-cpu"
    assert knn_graph(torch.rand(50, 3), 2).backend == "faiss-cpu"  # small kNN stays on FAISS
    big = backends.KDTREE_KNN_MIN_POINTS
    assert resolve_backend("auto", "cpu", knn_shape=(big, low)) == "kdtree"  # large kNN: the N log N tree
    assert resolve_backend("auto", "cpu", knn_shape=(big - 1, low)) == "faiss-cpu"
    assert resolve_backend("auto", "cpu", knn_shape=(backends.CELLS_MIN_POINTS, 24)) == "cells"
    assert resolve_backend("auto", "cpu", knn_shape=(backends.CELLS_MIN_POINTS - 1, 24)) == "faiss-cpu"
    monkeypatch.setattr(backends, "faiss_gpu_available", lambda: True)
    assert resolve_backend("auto", "cuda", radius_shape=(10**6, 3)) == "faiss-gpu"  # the GPU keeps its own choice
    monkeypatch.setattr(backends, "kdtree_available", lambda: False)
    assert resolve_backend("auto", "cpu", radius_shape=(50, 3)) == "faiss-cpu"
    assert resolve_backend("auto", "cpu", knn_shape=(big, low)) == "faiss-cpu"
    assert resolve_backend("auto", "cpu", knn_shape=(big, 24)) == "cells"  # needs no library


@pytest.mark.parametrize("name", ["faiss-cpu", "torch", "kdtree", "cells"])
def test_named_cpu_backends_resolve_to_themselves(name: str) -> None:
    assert resolve_backend(name, "cpu") == name
    assert knn_graph(torch.rand(20, 2), 2, backend=name).backend == name


def test_faiss_gpu_without_support_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="backend 'faiss-gpu' requested but CUDA is unavailable to torch"):
        resolve_backend("faiss-gpu", "cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(backends, "faiss_gpu_available", lambda: False)
    with pytest.raises(ValueError, match=re.escape("requested but faiss has no GPU support or sees no GPU")):
        resolve_backend("faiss-gpu", "cuda")


def test_missing_libraries_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "faiss_cpu_available", lambda: False)
    monkeypatch.setattr(backends, "kdtree_available", lambda: False)
    with pytest.raises(ValueError, match=re.escape("backend 'faiss-cpu' requested but faiss is not installed")):
        resolve_backend("faiss-cpu", "cpu")
    with pytest.raises(ValueError, match=re.escape("backend 'kdtree' requested but scipy is not installed")):
        resolve_backend("kdtree", "cpu")
    assert available_backends() == ["torch", "cells"]
