"""Simulated TrackML events: generation, propagation, digitisation and the TrackML tables.

One event is deterministic in ``(preset, seed, event_id)``: its random stream is a numpy
``Generator`` seeded from all three. The tables follow the challenge exactly (hits sorted
by volume, layer and module like the real files; full truth with the official weights),
so simulated events are read, validated and scored by the same code as real ones.
The weights are :func:`~trackcore.data.weights.official_trackml_weights` of the truth and
particles tables, as the challenge library computes them (hits ordered by ``|tz - vz|``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from trackcore.data.event import Event
from trackcore.data.geometry import Layer, ModuleLocator, get_layers
from trackcore.data.simulation.digitization import digitize
from trackcore.data.simulation.particles import ParticleSet, generate_primaries
from trackcore.data.simulation.presets import Preset, get_preset
from trackcore.data.simulation.propagation import Crossings, propagate
from trackcore.data.simulation.secondaries import spawn_secondaries
from trackcore.data.weights import official_trackml_weights

GENERATOR_NAME = "trackcore.data.simulation"


def event_rng(preset: Preset, seed: int, event_id: int) -> np.random.Generator:
    """The random generator of one event, seeded from the preset name, the seed and the event id."""
    if seed < 0 or event_id < 0:
        raise ValueError(f"seed and event_id must be non-negative (got seed={seed}, event_id={event_id})")
    return np.random.default_rng(np.random.SeedSequence([seed, event_id, zlib.crc32(preset.name.encode())]))


def simulate_event(preset: str | Preset, *, seed: int, event_id: int, detectors: pd.DataFrame | None = None,
                   particles: ParticleSet | None = None) -> Event:
    """Simulate one event.

    Args:
        preset: a preset name (``tiny``, ``small``, ``trackml``) or a :class:`Preset`.
        seed: random seed; with ``preset`` and ``event_id`` it fixes the event.
        event_id: the event number (``event000001000`` has 1000).
        detectors: a real TrackML ``detectors.csv`` table: module ids become those of the
            nearest real module centre; None for the synthetic segmentation.
        particles: primaries to simulate instead of generating pile-up (a particle gun);
            secondaries and noise still follow the preset.

    Returns:
        An :class:`~trackcore.data.event.Event` with ``truth_kind == "full"``: ``hits``
        (``hit_id`` 1..N sorted by volume, layer, module), ``particles`` (every generated
        particle with ``nhits`` its recorded hits, 0 for those that miss the detector, and
        ``particle_type``), ``truth`` (noise has ``particle_id`` 0 and weight 0).
    """
    preset = get_preset(preset)
    return _simulate(preset, seed=seed, event_id=event_id, locator=ModuleLocator(detectors),
                     particles=particles)


def _simulate(preset: Preset, *, seed: int, event_id: int, locator: ModuleLocator,
              particles: ParticleSet | None = None) -> Event:
    rng = event_rng(preset, seed, event_id)
    layers = get_layers(preset.volumes)
    kwargs: dict[str, Any] = dict(rng=rng, field_t=preset.field_t, max_turn=preset.max_turn,
                                  multiple_scattering=preset.multiple_scattering,
                                  interaction_rate=preset.interaction_rate)

    primaries = generate_primaries(preset, rng) if particles is None else particles
    crossings_p = _propagate_tracked(primaries, layers, preset.pt_min_hits, **kwargs)
    secondaries, start_layer = spawn_secondaries(primaries, crossings_p, preset, rng)
    crossings_s = _propagate_tracked(secondaries, layers, preset.pt_min_hits, start_layer=start_layer, **kwargs)
    crossings_s.particle += len(primaries)
    everyone = ParticleSet.concat(primaries, secondaries)
    crossings = Crossings.concat(crossings_p, crossings_s)

    sim = digitize(crossings, layers, rng=rng, hit_inefficiency=preset.hit_inefficiency,
                   noise_per_module=preset.noise_per_module, locator=locator)

    # Like the real files: hits sorted by (volume, layer, module), in random order within a module.
    volume_of = np.array([lay.volume_id for lay in layers], dtype=np.int64)
    layer_id_of = np.array([lay.layer_id for lay in layers], dtype=np.int64)
    shuffle = rng.permutation(len(sim))
    order = shuffle[np.lexsort((sim.module_id[shuffle], layer_id_of[sim.layer[shuffle]],
                                volume_of[sim.layer[shuffle]]))]
    is_signal = sim.particle[order] >= 0
    particle = np.where(is_signal, sim.particle[order], 0)
    pid_j = np.where(is_signal, everyone.particle_id[particle], 0)
    n = len(order)
    hit_id = np.arange(1, n + 1, dtype=np.int64)
    pos, true_pos, mom = sim.position[order], sim.true_position[order], sim.momentum[order]

    hits = pd.DataFrame({
        "hit_id": hit_id, "x": pos[:, 0], "y": pos[:, 1], "z": pos[:, 2],
        "volume_id": volume_of[sim.layer[order]], "layer_id": layer_id_of[sim.layer[order]],
        "module_id": sim.module_id[order],
    })
    truth = pd.DataFrame({
        "hit_id": hit_id, "particle_id": pid_j,
        "tx": true_pos[:, 0], "ty": true_pos[:, 1], "tz": true_pos[:, 2],
        "tpx": mom[:, 0], "tpy": mom[:, 1], "tpz": mom[:, 2],
    })
    nhits = np.bincount(sim.particle[sim.particle >= 0], minlength=len(everyone))
    by_id = np.argsort(everyone.particle_id, kind="stable")
    particles_df = pd.DataFrame({
        "particle_id": everyone.particle_id[by_id],
        "vx": everyone.vertex[by_id, 0], "vy": everyone.vertex[by_id, 1], "vz": everyone.vertex[by_id, 2],
        "px": everyone.momentum[by_id, 0], "py": everyone.momentum[by_id, 1], "pz": everyone.momentum[by_id, 2],
        "q": everyone.charge[by_id], "nhits": nhits[by_id].astype(np.int64),
        "particle_type": everyone.pdg[by_id],
    })
    truth["weight"] = official_trackml_weights(truth, particles_df, source=f"simulation(preset={preset.name})")
    meta = {
        "generator": GENERATOR_NAME,
        "preset": preset.name,
        "preset_settings": asdict(preset),
        "seed": seed,
        "module_ids": "detectors.csv nearest module centre" if locator.uses_detectors else "synthetic",
        "n_primaries": len(primaries),
        "n_secondaries": len(secondaries),
        "n_noise_hits": int(n - is_signal.sum()),
    }
    return Event(
        event_id=event_id, hits=hits, particles=particles_df, truth=truth, truth_kind="full",
        source=f"simulation(preset={preset.name}, seed={seed}, event_id={event_id})", meta=meta,
    )


def _propagate_tracked(particles: ParticleSet, layers: Sequence[Layer], pt_min_hits: float, *,
                       start_layer: np.ndarray | None = None, **kwargs: Any) -> Crossings:
    """Propagate the particles with pT >= ``pt_min_hits``; crossings index all ``particles``."""
    tracked = np.flatnonzero(particles.pt >= pt_min_hits)
    start = None if start_layer is None else start_layer[tracked]
    crossings = propagate(particles.select(tracked), layers, start_layer=start, **kwargs)
    crossings.particle = tracked[crossings.particle]
    return crossings


def simulate_events(preset: str | Preset, *, n_events: int, seed: int, out_dir: str | Path,
                    first_event_id: int = 1000, detectors: pd.DataFrame | None = None,
                    progress: bool = True, compress: bool = False) -> list[Path]:
    """Simulate ``n_events`` events and write them as TrackML CSV files.

    Events get ids ``first_event_id, first_event_id + 1, ...``; each is deterministic in
    ``(preset, seed, event_id)``, so a dataset can be extended or regenerated in parts.
    The settings are written beside the events as ``simulation.json``.

    Args:
        preset: a preset name or :class:`Preset`.
        n_events: number of events.
        seed: random seed.
        out_dir: folder to write ``event<id>-{hits,particles,truth}.csv`` into.
        first_event_id: id of the first event.
        detectors: optional real ``detectors.csv`` table for module ids.
        progress: show a tqdm progress bar.
        compress: write ``.csv.gz``.

    Returns:
        The event prefixes written, in event-id order.
    """
    from trackcore.data.atomic import atomic_write_text
    from trackcore.data.trackml_io import write_event

    preset = get_preset(preset)
    if n_events < 0:
        raise ValueError(f"n_events must be >= 0 (got {n_events})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    locator = ModuleLocator(detectors)
    ids = list(range(first_event_id, first_event_id + n_events))
    atomic_write_text(out_dir / "simulation.json", json.dumps({
        "generator": GENERATOR_NAME, "preset": asdict(preset), "seed": seed, "event_ids": ids,
        "module_ids": "detectors.csv nearest module centre" if locator.uses_detectors else "synthetic",
    }, indent=2))
    written = []
    for event_id in tqdm(ids, desc=f"simulating {preset.name}", unit="event", disable=not progress):
        event = _simulate(preset, seed=seed, event_id=event_id, locator=locator)
        written.append(write_event(event, out_dir, compress=compress))
    return written
