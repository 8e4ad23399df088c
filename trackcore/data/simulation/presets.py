"""Named, frozen settings of the detector simulation: ``tiny``, ``small`` and ``trackml``.

The ``trackml`` preset is tuned against 40 real TrackML events
(``../shared/data/trackml_real_partial``; Amrouche et al., arXiv:1904.06778): hits,
particles, noise fraction, pT spectrum and hits per volume are compared with the real
events by ``scripts/compare_simulation.py``. ``small`` and ``tiny`` keep the same physics on
the pixel detector with fewer particles (``small``: 23 pile-up vertices instead of 200;
``tiny``: 10 small vertices); their noise per module is scaled with the particle density,
so that their noise fraction stays that of the pixel volumes at TrackML density
(``trackcore inspect`` prints it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trackcore.data.geometry import VOLUME_IDS
from trackcore.data.schema import ALL_VOLUMES, PIXEL_VOLUMES

# Noise hits per module of the real events, estimated from the full-truth subset of a real
# event (noise density is flat per module, ~0.9 in every volume) and the real noise fraction.
_TRACKML_NOISE_PER_MODULE = 0.95
# Primaries per event in the real events' particles tables (pT > 0.1 GeV, |eta| < 4).
_TRACKML_PRIMARIES = 6940.0
_TRACKML_PER_VERTEX = _TRACKML_PRIMARIES / 200.0


@dataclass(frozen=True)
class Preset:
    """Settings of one simulated dataset.

    Args:
        name: preset name, recorded in every event's ``meta``.
        volumes: TrackML volumes that exist in the simulated detector.
        pileup_mu: mean number of primary vertices per event (Poisson).
        particles_per_vertex: mean number of charged primaries per vertex with
            ``pT > pt_min`` and ``|eta| < eta_max`` (negative binomial).
        multiplicity_shape: shape ``k`` of the negative binomial of the vertex multiplicity
            (smaller is broader; real vertices range from 1 to ~200 particles).
        interaction_rate: nuclear interactions per radiation length of material crossed;
            the particle stops there (real TrackML tracks end early ~15% of the time).
        secondaries_per_interaction: mean number of secondaries (pT > pt_min) emitted by an
            interaction of a primary (Poisson).
        decay_fraction: probability that a primary has a decay daughter within a few cm
            of the beam line (K0s, Lambda, ...).
        noise_per_module: mean noise hits per module (uniform over each layer).
        hit_inefficiency: probability that a crossing leaves no hit.
        vertex_sigma_z: beam-spot length (mm). TrackML's vertices spread by ~5.5 mm
            (real LHC beam spots are ~10 times longer).
        vertex_sigma_xy: transverse beam-spot size (mm).
        pt_min: lowest generated transverse momentum (GeV); the spectra start at 0.1.
        pt_min_hits: particles below this pT (GeV) are kept in the particles table but not
            propagated (no hits, no secondaries): the real TrackML simulation recorded no
            hits for them (98% of real primaries below 0.15 GeV have ``nhits == 0``, 0.5%
            above).
        eta_max: largest generated ``|eta|``; the spectra end at 4.
        field_t: solenoid field along +z (tesla).
        max_turn: largest transverse turning angle (rad) a particle is followed for;
            pi stops loopers where they start to curl back.
        multiple_scattering: apply Highland multiple scattering at every layer.
        n_train, n_val, n_test: default split sizes of a dataset of this preset.
        description: one line for listings.
    """

    name: str
    volumes: tuple[int, ...]
    pileup_mu: float
    particles_per_vertex: float = _TRACKML_PER_VERTEX
    multiplicity_shape: float = 0.8
    interaction_rate: float = 0.4
    secondaries_per_interaction: float = 2.5
    decay_fraction: float = 0.04
    noise_per_module: float = 0.0
    hit_inefficiency: float = 0.01
    vertex_sigma_z: float = 5.5
    vertex_sigma_xy: float = 0.015
    pt_min: float = 0.1
    pt_min_hits: float = 0.15
    eta_max: float = 4.0
    field_t: float = 2.0
    max_turn: float = math.pi
    multiple_scattering: bool = True
    n_train: int = 80
    n_val: int = 10
    n_test: int = 10
    description: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.volumes) - set(VOLUME_IDS)
        if not self.volumes or unknown:
            raise ValueError(
                f"preset {self.name!r}: volumes must be a non-empty subset of {list(VOLUME_IDS)} "
                f"(got {list(self.volumes)})"
            )
        for field_name in ("pileup_mu", "particles_per_vertex", "multiplicity_shape", "field_t", "max_turn"):
            if not getattr(self, field_name) > 0:
                raise ValueError(f"preset {self.name!r}: {field_name} must be > 0 (got {getattr(self, field_name)})")
        for field_name in ("interaction_rate", "secondaries_per_interaction", "decay_fraction",
                           "noise_per_module", "hit_inefficiency", "vertex_sigma_z", "vertex_sigma_xy"):
            if getattr(self, field_name) < 0:
                raise ValueError(f"preset {self.name!r}: {field_name} must be >= 0 (got {getattr(self, field_name)})")
        if not 0 <= self.hit_inefficiency < 1 or not 0 <= self.decay_fraction <= 1:
            raise ValueError(f"preset {self.name!r}: hit_inefficiency and decay_fraction are probabilities")
        if not (0.1 <= self.pt_min < 100.0 and 0 < self.eta_max <= 4.0):
            raise ValueError(
                f"preset {self.name!r}: the tuned spectra cover 0.1 <= pT < 100 GeV and |eta| <= 4 "
                f"(got pt_min={self.pt_min}, eta_max={self.eta_max})"
            )

    @property
    def mean_primaries(self) -> float:
        """Expected number of primary particles per event."""
        return self.pileup_mu * self.particles_per_vertex

    @property
    def split_sizes(self) -> tuple[int, int, int]:
        """Default (train, val, test) numbers of events."""
        return self.n_train, self.n_val, self.n_test


def _density_noise(mean_primaries: float) -> float:
    """Noise per module that keeps the real signal-to-noise ratio at a lower particle density."""
    return _TRACKML_NOISE_PER_MODULE * mean_primaries / _TRACKML_PRIMARIES


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            # Ten small vertices rather than three typical ones: a less erratic event size for tests.
            name="tiny", volumes=PIXEL_VOLUMES, pileup_mu=10.0, particles_per_vertex=8.5, multiplicity_shape=5.0,
            noise_per_module=_density_noise(85.0),
            n_train=4, n_val=1, n_test=1,
            description="~100 particles, pixel detector (volumes 7/8/9), for unit tests",
        ),
        Preset(
            name="small", volumes=PIXEL_VOLUMES, pileup_mu=23.0,
            noise_per_module=_density_noise(23.0 * _TRACKML_PER_VERTEX),
            n_train=100, n_val=10, n_test=10,
            description="~1,000 particles, pixel detector: trains every family on a laptop CPU",
        ),
        Preset(
            name="trackml", volumes=ALL_VOLUMES, pileup_mu=200.0, noise_per_module=_TRACKML_NOISE_PER_MODULE,
            n_train=80, n_val=10, n_test=10,
            description="TrackML density: ~10,000 particles, ~100,000 hits, all volumes, noise",
        ),
    )
}


def get_preset(name: str | Preset) -> Preset:
    """The preset of that name (a :class:`Preset` is returned as is).

    Raises:
        ValueError: unknown name; the message lists the valid ones.
    """
    if isinstance(name, Preset):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown simulation preset {name!r}; valid presets: {', '.join(PRESETS)}") from None
