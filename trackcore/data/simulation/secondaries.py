"""Secondary particles: made by nuclear interactions in the layers, and by decays near the beam.

About 30% of the particles of a real TrackML event are secondaries (production vertex
more than 1 mm from the beam line); most come from the layers themselves (their vertex
radii peak at the layer radii) and have a softer, more central spectrum than primaries.
Here every nuclear interaction of a primary (a crossing marked ``interacted`` by
:func:`.propagate`, where the primary stops) emits ``Poisson(secondaries_per_interaction)``
secondaries at the crossing point; and each primary has a decay daughter with
probability ``decay_fraction``, a few cm down its helix. Secondaries take the secondary
pT and eta spectra of :mod:`.spectra`, a direction within ~1 rad in phi of their parent,
and a positive charge 68% of the time (protons from nuclear break-up, positrons), as in
the real events. Secondaries do not make further secondaries.
"""

from __future__ import annotations

import numpy as np

from trackcore.data.simulation.particles import ParticleSet, decode_particle_id, encode_particle_id
from trackcore.data.simulation.presets import Preset
from trackcore.data.simulation.propagation import Crossings, helix_radius, helix_step
from trackcore.data.simulation.spectra import sample_pt_eta

POSITIVE_FRACTION = 0.68
"""Fraction of secondaries with charge +1 in the real events."""
DECAY_LENGTH_MM = 20.0
"""Mean transverse flight distance of the decaying parents."""
PHI_SPREAD = 1.0
"""RMS (rad) of the secondary's phi about its parent's direction at the vertex."""

# Species by charge: positive: pi+, p, e+; negative: pi-, e-.
_POSITIVE = (np.array([211, 2212, -11]), np.array([0.45, 0.35, 0.20]))
_NEGATIVE = (np.array([-211, 11]), np.array([0.5, 0.5]))


def spawn_secondaries(primaries: ParticleSet, crossings: Crossings, preset: Preset,
                      rng: np.random.Generator) -> tuple[ParticleSet, np.ndarray]:
    """Secondaries made by ``primaries`` along their ``crossings``.

    Args:
        primaries: the primary particles.
        crossings: their layer crossings (from :func:`.propagate`).
        preset: rates and cuts (``secondaries_per_interaction``, ``decay_fraction``,
            ``pt_min``, ``eta_max``, ``field_t``).
        rng: random generator.

    Shapes:
        return: secondaries (M particles), start_layer (M,) int64: the layer a secondary is
        made on (-1 for decays), so that propagation does not count it twice.
    """
    interactions = np.flatnonzero(crossings.interacted)
    n_per = rng.poisson(preset.secondaries_per_interaction, len(interactions))
    interacting = crossings.select(np.repeat(interactions, n_per))
    decaying = np.flatnonzero(rng.random(len(primaries)) < preset.decay_fraction)

    flight = rng.exponential(DECAY_LENGTH_MM, len(decaying))
    radius = helix_radius(primaries.pt[decaying], primaries.charge[decaying], preset.field_t)
    decay_pos, decay_mom = helix_step(
        primaries.vertex[decaying], primaries.momentum[decaying], primaries.charge[decaying],
        preset.field_t, flight / radius,
    )

    parent = np.r_[interacting.particle, decaying]
    vertex = np.concatenate([interacting.position, decay_pos])
    parent_mom = np.concatenate([interacting.momentum, decay_mom])
    start_layer = np.r_[interacting.layer, np.full(len(decaying), -1, np.int64)]
    m = len(parent)

    pt, eta = sample_pt_eta(rng, m, secondary=True, pt_min=preset.pt_min, eta_max=preset.eta_max)
    phi = np.arctan2(parent_mom[:, 1], parent_mom[:, 0]) + rng.normal(0.0, PHI_SPREAD, m)
    charge = np.where(rng.random(m) < POSITIVE_FRACTION, 1, -1)
    pdg = np.where(
        charge > 0,
        rng.choice(_POSITIVE[0], m, p=_POSITIVE[1]),
        rng.choice(_NEGATIVE[0], m, p=_NEGATIVE[1]),
    )

    # Number the secondaries of each parent 1, 2, ... for their ids.
    order = np.argsort(parent, kind="stable")
    sorted_parent = parent[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_parent)) + 1]
    counts = np.diff(np.r_[first, m])
    rank = np.empty(m, np.int64)
    rank[order] = np.arange(m) - np.repeat(first, counts) + 1
    vertex_id, primary_id, _ = decode_particle_id(primaries.particle_id[parent])

    secondaries = ParticleSet.from_kinematics(
        pt, eta, phi, charge, vertex=vertex, pdg=pdg,
        particle_id=encode_particle_id(vertex_id, primary_id, rank),
    )
    return secondaries, start_layer
