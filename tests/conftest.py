"""Shared fixtures: the location of ../shared/data and small hand-built events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trackcore.data.event import Event

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path (or event prefix) under ../shared/data; skips the calling test with a clear reason when absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not (path.exists() or any(path.parent.glob(f"{path.name}-*"))):
        pytest.skip(f"real data not available: {path} is absent (../shared/data sits beside the repo in CI)")
    return path


def make_event(n_particles: int = 3, hits_per_particle: int = 4, n_noise: int = 2, seed: int = 0) -> Event:
    """A small hand-built event with full truth: particles fly radially through barrel layers."""
    rng = np.random.default_rng(seed)
    radii = np.array([32.0, 72.0, 116.0, 172.0, 260.0, 360.0])[:hits_per_particle]
    rows, truth = [], []
    hit_id = 1
    pids = np.arange(1, n_particles + 1, dtype=np.int64) * 1000
    phis = rng.uniform(-np.pi, np.pi, n_particles)
    for pid, phi in zip(pids, phis, strict=True):
        for layer, r in enumerate(radii):
            x, y, z = r * np.cos(phi), r * np.sin(phi), 0.1 * r
            rows.append((hit_id, x, y, z, 8, 2 * (layer + 1), hit_id))
            truth.append((hit_id, pid, x, y, z, np.cos(phi), np.sin(phi), 0.1, 0.0))
            hit_id += 1
    for _ in range(n_noise):
        phi, r = rng.uniform(-np.pi, np.pi), 72.0
        rows.append((hit_id, r * np.cos(phi), r * np.sin(phi), 5.0, 8, 4, hit_id))
        truth.append((hit_id, 0, r * np.cos(phi), r * np.sin(phi), 5.0, 0.0, 0.0, 0.0, 0.0))
        hit_id += 1
    hits = pd.DataFrame(rows, columns=["hit_id", "x", "y", "z", "volume_id", "layer_id", "module_id"])
    truth = pd.DataFrame(truth, columns=["hit_id", "particle_id", "tx", "ty", "tz", "tpx", "tpy", "tpz", "weight"])
    pt = np.linspace(0.5, 2.0, n_particles)
    particles = pd.DataFrame({
        "particle_id": pids, "vx": 0.0, "vy": 0.0, "vz": 0.0,
        "px": pt * np.cos(phis), "py": pt * np.sin(phis), "pz": 0.1 * pt,
        "q": np.where(np.arange(n_particles) % 2 == 0, 1, -1), "nhits": hits_per_particle,
    })
    return Event(event_id=1000, hits=hits, particles=particles, truth=truth, truth_kind="full", source="handmade")


@pytest.fixture
def small_event() -> Event:
    return make_event()


@pytest.fixture
def single_thread():
    """One intra-op torch thread: tiny tensors run ~5x faster than with two busy cores."""
    import torch

    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


@pytest.fixture(autouse=True)
def _no_wandb_by_default(monkeypatch):
    """Tests run without W&B (its service process costs seconds); the W&B test turns it back on."""
    monkeypatch.setenv("WANDB_MODE", "disabled")
