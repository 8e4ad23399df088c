"""A description of the machine a measurement was taken on (for benchmark reports)."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

from trackcore.allocator import keeps_freed_memory

_PACKAGES = ("torch", "torch-geometric", "faiss-cpu", "faiss-gpu-cu12", "scikit-learn", "scipy", "numpy")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict:
    """CPU model and cores, GPU (if torch sees one), package versions, thread settings and load."""
    import torch

    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    info = {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "gpu": gpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "versions": versions,
        "thread_env": {n: os.environ.get(n) for n in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "load_avg_1min": os.getloadavg()[0],
        "keeps_freed_memory": keeps_freed_memory(),  # trackcore.allocator's glibc thresholds
    }
    try:
        import faiss

        info["faiss_omp_threads"] = faiss.omp_get_max_threads()
    except ImportError:
        pass
    return info


def machine_line(info: dict) -> str:
    """One Markdown line describing :func:`machine_info`'s result."""
    v = info.get("versions", {})
    faiss = v.get("faiss-gpu-cu12") or v.get("faiss-cpu", "absent")
    gpu = f", GPU {info['gpu']}" if info.get("gpu") else ", no GPU"
    return (
        f"Machine: {info['cpu_model']}, {info['cpus_usable']} usable cores{gpu}; torch {v.get('torch')} "
        f"({info['torch_threads']} threads), faiss {faiss} ({info.get('faiss_omp_threads', '?')} OpenMP threads), "
        f"scikit-learn {v.get('scikit-learn')}, scipy {v.get('scipy')}; thread env {info['thread_env']}; "
        f"1-min load average at start {info['load_avg_1min']:.2f}; "
        f"freed memory kept (trackcore.allocator): {'yes' if info.get('keeps_freed_memory') else 'no'}."
    )
