"""Particles of a simulated event: the :class:`ParticleSet` container and primary generation.

Primaries come from pile-up vertices: ``Poisson(pileup_mu)`` vertices (at least one) on
a beam spot ``N(0, sigma_xy)`` x ``N(0, sigma_xy)`` x ``N(0, sigma_z)``, each with a
negative-binomial number of charged particles whose pT and eta follow the real TrackML
spectra (:mod:`.spectra`), phi uniform, charge +-1 with equal odds.

Particle ids keep TrackML's idea of encoding the ancestry in the id, in a layout that
fits any event: ``vertex_id << 40 | primary_id << 20 | secondary_id`` (all 1-based;
``secondary_id == 0`` for primaries). Use :func:`decode_particle_id` to read them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trackcore.data.simulation.presets import Preset
from trackcore.data.simulation.spectra import sample_pt_eta

# PDG id -> mass (GeV).
MASSES: dict[int, float] = {11: 0.000511, 211: 0.13957, 321: 0.493677, 2212: 0.938272}
# Charged primaries at the LHC: mostly pions, then kaons and protons (PDG id of the positive one).
PRIMARY_SPECIES: dict[int, float] = {211: 0.80, 321: 0.12, 2212: 0.08}

_FIELDS = ("particle_id", "vertex", "momentum", "charge", "pdg")
_ID_BITS = 20
_ID_MASK = (1 << _ID_BITS) - 1


@dataclass
class ParticleSet:
    """Kinematics of the particles of one event at their production vertices.

    Args:
        particle_id: unique non-zero ids.
        vertex: production vertex (mm).
        momentum: momentum at the vertex (GeV).
        charge: charge in units of e (non-zero).
        pdg: PDG particle id (sign included).

    Shapes:
        particle_id, charge, pdg: (N,) int64; vertex, momentum: (N, 3) float64.
    """

    particle_id: np.ndarray
    vertex: np.ndarray
    momentum: np.ndarray
    charge: np.ndarray
    pdg: np.ndarray

    def __post_init__(self) -> None:
        self.particle_id = np.asarray(self.particle_id, dtype=np.int64)
        self.vertex = np.asarray(self.vertex, dtype=np.float64).reshape(-1, 3)
        self.momentum = np.asarray(self.momentum, dtype=np.float64).reshape(-1, 3)
        self.charge = np.asarray(self.charge, dtype=np.int64)
        self.pdg = np.asarray(self.pdg, dtype=np.int64)
        n = len(self.particle_id)
        for name in ("vertex", "momentum", "charge", "pdg"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"ParticleSet: '{name}' has {len(getattr(self, name))} rows, expected {n}")
        if np.any(self.charge == 0):
            raise ValueError("ParticleSet: only charged particles leave hits (found charge 0)")
        if np.any(self.particle_id == 0) or len(np.unique(self.particle_id)) != n:
            raise ValueError("ParticleSet: particle_id must be unique and non-zero (0 marks noise)")

    def __len__(self) -> int:
        return len(self.particle_id)

    @property
    def pt(self) -> np.ndarray:
        """Transverse momentum (GeV). Shapes: (N,)"""
        return np.hypot(self.momentum[:, 0], self.momentum[:, 1])

    @property
    def mass(self) -> np.ndarray:
        """Mass (GeV) from the PDG id; unknown ids get the pion mass. Shapes: (N,)"""
        ids = np.abs(self.pdg)
        out = np.full(len(ids), MASSES[211])
        for pdg, m in MASSES.items():
            out[ids == pdg] = m
        return out

    def select(self, index: np.ndarray) -> ParticleSet:
        """The particles at ``index`` (integer indices or a boolean mask)."""
        return ParticleSet(*(getattr(self, f)[index] for f in _FIELDS))

    @staticmethod
    def concat(*sets: ParticleSet) -> ParticleSet:
        """One set holding the particles of all ``sets`` in order."""
        return ParticleSet(*(np.concatenate([getattr(s, f) for s in sets]) for f in _FIELDS))

    @staticmethod
    def from_kinematics(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, charge: np.ndarray,
                        *, vertex: np.ndarray | None = None, pdg: np.ndarray | None = None,
                        particle_id: np.ndarray | None = None) -> ParticleSet:
        """A set from (pT, eta, phi, charge): a particle gun for tests and studies.

        Defaults: vertices at the origin, pions, ids ``encode_particle_id(1, 1..N, 0)``.

        Shapes:
            pt, eta, phi, charge, pdg, particle_id: (N,); vertex: (N, 3)
        """
        pt, eta, phi = (np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (pt, eta, phi))
        charge = np.atleast_1d(np.asarray(charge, dtype=np.int64))
        n = len(pt)
        momentum = np.column_stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)])
        return ParticleSet(
            particle_id=encode_particle_id(np.ones(n, np.int64), np.arange(1, n + 1), np.zeros(n, np.int64))
            if particle_id is None else particle_id,
            vertex=np.zeros((n, 3)) if vertex is None else vertex,
            momentum=momentum,
            charge=charge,
            pdg=211 * charge if pdg is None else pdg,
        )


def encode_particle_id(vertex_id: np.ndarray, primary_id: np.ndarray, secondary_id: np.ndarray) -> np.ndarray:
    """``vertex_id << 40 | primary_id << 20 | secondary_id``.

    Shapes:
        all: (N,) integers below 2**20 (vertex_id below 2**23); return: (N,) int64.
    """
    v, p, s = (np.asarray(a, dtype=np.int64) for a in (vertex_id, primary_id, secondary_id))
    if np.any(p > _ID_MASK) or np.any(s > _ID_MASK) or np.any(v >= 1 << 23):
        raise ValueError("particle id field overflow (more than 2**20 particles per vertex or parent)")
    return (v << 2 * _ID_BITS) | (p << _ID_BITS) | s


def decode_particle_id(particle_id: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`encode_particle_id`: ``(vertex_id, primary_id, secondary_id)``.

    Shapes:
        particle_id: (N,); return: three (N,) int64 arrays.
    """
    pid = np.asarray(particle_id, dtype=np.int64)
    return pid >> 2 * _ID_BITS, (pid >> _ID_BITS) & _ID_MASK, pid & _ID_MASK


def _signed_pdg(species: np.ndarray, charge: np.ndarray) -> np.ndarray:
    """PDG id with sign from the charge (electrons: PDG 11 is negative)."""
    sign = np.where(species == 11, -charge, charge)
    return species * sign


def generate_primaries(preset: Preset, rng: np.random.Generator) -> ParticleSet:
    """Primary particles of one event from pile-up vertices.

    Shapes:
        return: a ParticleSet of ~``preset.mean_primaries`` particles.
    """
    n_vtx = max(1, int(rng.poisson(preset.pileup_mu)))
    k = preset.multiplicity_shape
    mult = rng.negative_binomial(k, k / (k + preset.particles_per_vertex), n_vtx)
    if mult.sum() == 0:
        mult[0] = 1  # an event needs at least one particle to be an event
    vtx_pos = np.column_stack([
        rng.normal(0.0, preset.vertex_sigma_xy, n_vtx),
        rng.normal(0.0, preset.vertex_sigma_xy, n_vtx),
        rng.normal(0.0, preset.vertex_sigma_z, n_vtx),
    ])
    vertex_index = np.repeat(np.arange(n_vtx), mult)
    n = len(vertex_index)
    starts = np.r_[0, np.cumsum(mult)[:-1]]
    primary_id = np.arange(n) - np.repeat(starts, mult) + 1

    pt, eta = sample_pt_eta(rng, n, secondary=False, pt_min=preset.pt_min, eta_max=preset.eta_max)
    phi = rng.uniform(-np.pi, np.pi, n)
    charge = rng.choice(np.array([-1, 1]), n)
    species = rng.choice(np.array(list(PRIMARY_SPECIES)), n, p=np.array(list(PRIMARY_SPECIES.values())))
    return ParticleSet.from_kinematics(
        pt, eta, phi, charge,
        vertex=vtx_pos[vertex_index],
        pdg=_signed_pdg(species, charge),
        particle_id=encode_particle_id(vertex_index + 1, primary_id, np.zeros(n, np.int64)),
    )
