"""A fast, vectorised simulation of the TrackML detector, tuned to real TrackML events.

Pile-up vertices emit particles with the real TrackML pT and eta spectra; helices in a
2 T solenoid are intersected analytically with the 48 layers of the TrackML detector
(:mod:`trackcore.data.geometry`), with Highland multiple scattering, secondaries from the
material, module overlaps, pitch smearing, inefficiency and noise. Output events carry
full truth with the official TrackML weights.

    >>> from trackcore.data.simulation import simulate_event
    >>> event = simulate_event("tiny", seed=0, event_id=1000)
"""

from trackcore.data.simulation.digitization import SimHits, digitize
from trackcore.data.simulation.material import RADIATION_LENGTHS, highland_theta0
from trackcore.data.simulation.particles import (
    ParticleSet,
    decode_particle_id,
    encode_particle_id,
    generate_primaries,
)
from trackcore.data.simulation.presets import PRESETS, Preset, get_preset
from trackcore.data.simulation.propagation import Crossings, helix_radius, helix_step, propagate
from trackcore.data.simulation.secondaries import spawn_secondaries
from trackcore.data.simulation.simulate import simulate_event, simulate_events

__all__ = [
    "PRESETS",
    "RADIATION_LENGTHS",
    "Crossings",
    "ParticleSet",
    "Preset",
    "SimHits",
    "decode_particle_id",
    "digitize",
    "encode_particle_id",
    "generate_primaries",
    "get_preset",
    "helix_radius",
    "helix_step",
    "highland_theta0",
    "propagate",
    "simulate_event",
    "simulate_events",
    "spawn_secondaries",
]
