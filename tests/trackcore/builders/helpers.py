"""Comparing candidate sets in build tests."""

from __future__ import annotations

from trackcore.candidates import TrackCandidates


def track_sets(candidates: TrackCandidates) -> set[frozenset[int]]:
    """Each track as the frozenset of its hit ids (track ids and row order ignored)."""
    frame = candidates.to_frame()
    return {frozenset(hits) for hits in frame.groupby("track_id")["hit_id"].apply(list)}


def tracks_by_id(candidates: TrackCandidates) -> dict[int, set[int]]:
    """Track id -> set of hit ids."""
    frame = candidates.to_frame()
    return {int(t): set(h) for t, h in frame.groupby("track_id")["hit_id"].apply(list).items()}


def full_and_pixel_stages(root, *, pixel_family: str = "ec", seed: int = 3) -> tuple:
    """A simulated tiny event with every volume, saved as ``root/full/test`` (pt1_all hits) and as the
    pixel stage ``root/pixel/stages/<pixel_family>/test`` (pt1_pixel hits) carrying the truth pixel
    tracks (one candidate per particle with >= 3 pixel hits): (full stage dir, pixel work dir)."""
    from dataclasses import replace
    from pathlib import Path

    import numpy as np
    import torch

    from trackcore.data import process_event
    from trackcore.data.processing import get_benchmark
    from trackcore.data.simulation.presets import get_preset
    from trackcore.data.simulation.simulate import simulate_event

    root = Path(root)
    preset = replace(get_preset("tiny"), volumes=(7, 8, 9, 12, 13, 14, 16, 17, 18), noise_per_module=0.0)
    event = simulate_event(preset, seed=seed, event_id=1000)
    full = process_event(event, get_benchmark("pt1_all"))
    pixel = process_event(event, get_benchmark("pt1_pixel"))
    pid = pixel.particle_id.numpy()
    ids, counts = np.unique(pid[pid != 0], return_counts=True)
    good = np.isin(pid, ids[counts >= 3])
    pixel.track_hit_id, pixel.track_id = pixel.hit_id[good], torch.from_numpy(pid[good])
    full_dir, pixel_dir = root / "full", root / "pixel" / "stages" / pixel_family
    for folder, data in ((full_dir, full), (pixel_dir, pixel)):
        (folder / "test").mkdir(parents=True)
        torch.save(data, folder / "test" / "event000001000.pt")
    return full_dir, root / "pixel"
