"""Column specifications of the TrackML tables, exactly as the challenge defines them.

Each table has required columns with a dtype *kind* (``"i"`` integer, ``"f"`` float)
and optional columns that are kept when present. Extra columns are kept too: nothing
a user wrote is silently dropped.

Integer columns are int64 and read exactly (TrackML particle ids exceed 2**53, where a
float64 no longer holds every integer). Positions and momenta have a range: no detector
is larger than :data:`COORDINATE_LIMIT_MM` and no momentum exceeds
:data:`MOMENTUM_LIMIT_GEV`, so a value beyond them is a broken file, not physics (and
would overflow the float32 features and tensors made from it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

COORDINATE_LIMIT_MM = 100_000.0
"""Largest ``|x|, |y|, |z|`` (mm) accepted: 100 m. The TrackML detector reaches |z| < 3 m and
r < 1.03 m, the ACTS Open Data Detector |z| < 3.8 m; ATLAS, the largest collider detector,
is 46 m long."""
MOMENTUM_LIMIT_GEV = 1e8
"""Largest momentum component (GeV) accepted. Real TrackML truth gives noise hits
placeholder momenta up to ~1e6 GeV; LHC beams carry 7e3 GeV."""


@dataclass(frozen=True)
class TableSpec:
    """Required and optional columns of one TrackML table.

    Args:
        name: table name, also the file suffix (``event000001000-<name>.csv``).
        required: column name -> dtype kind (``"i"`` integer, ``"f"`` float).
        optional: columns read with their kind when present.
        unique: columns whose value must be unique per row (e.g. ``hit_id``).
        limits: column -> largest accepted absolute value (positions, momenta).
        nonzero: columns where 0 is not a valid value (``particle_id`` of a particle:
            0 means noise).
    """

    name: str
    required: dict[str, str]
    optional: dict[str, str] = field(default_factory=dict)
    unique: tuple[str, ...] = ()
    limits: dict[str, float] = field(default_factory=dict)
    nonzero: tuple[str, ...] = ()

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}


def _limits(coordinates: str = "", momenta: str = "") -> dict[str, float]:
    """Range limits for whitespace-separated coordinate and momentum column names."""
    return {**{c: COORDINATE_LIMIT_MM for c in coordinates.split()},
            **{c: MOMENTUM_LIMIT_GEV for c in momenta.split()}}


HITS = TableSpec(
    "hits",
    required={
        "hit_id": "i", "x": "f", "y": "f", "z": "f",
        "volume_id": "i", "layer_id": "i", "module_id": "i",
    },
    unique=("hit_id",),
    limits=_limits("x y z"),
)
CELLS = TableSpec("cells", required={"hit_id": "i", "ch0": "i", "ch1": "i", "value": "f"})
PARTICLES = TableSpec(
    "particles",
    required={
        "particle_id": "i", "vx": "f", "vy": "f", "vz": "f",
        "px": "f", "py": "f", "pz": "f", "q": "i", "nhits": "i",
    },
    optional={"particle_type": "i"},
    unique=("particle_id",),
    limits=_limits("vx vy vz", "px py pz"),
    nonzero=("particle_id",),
)
TRUTH = TableSpec(
    "truth",
    required={
        "hit_id": "i", "particle_id": "i", "tx": "f", "ty": "f", "tz": "f",
        "tpx": "f", "tpy": "f", "tpz": "f", "weight": "f",
    },
    unique=("hit_id",),
    limits=_limits("tx ty tz", "tpx tpy tpz"),
)
TRUTH_PARTIAL = TableSpec(
    "truth-partial",
    required={"hit_id": "i", "particle_id": "i"},
    optional={"in_classic0p5": "i", "in_plus1": "i", "in_qtrkx_barrel1": "i"},
    unique=("hit_id",),
)
DETECTORS = TableSpec(
    "detectors",
    required={
        "volume_id": "i", "layer_id": "i", "module_id": "i",
        "cx": "f", "cy": "f", "cz": "f",
        "rot_xu": "f", "rot_xv": "f", "rot_xw": "f",
        "rot_yu": "f", "rot_yv": "f", "rot_yw": "f",
        "rot_zu": "f", "rot_zv": "f", "rot_zw": "f",
        "module_t": "f", "pitch_u": "f", "pitch_v": "f",
    },
    optional={"module_minhu": "f", "module_maxhu": "f", "module_hv": "f", "geometry_id": "i"},
    limits=_limits("cx cy cz"),
)

EVENT_TABLES: dict[str, TableSpec] = {
    s.name: s for s in (HITS, CELLS, PARTICLES, TRUTH, TRUTH_PARTIAL)
}

# Volumes of the TrackML detector (DESIGN.md, "Data contract").
PIXEL_VOLUMES = (7, 8, 9)
SHORT_STRIP_VOLUMES = (12, 13, 14)
LONG_STRIP_VOLUMES = (16, 17, 18)
ALL_VOLUMES = PIXEL_VOLUMES + SHORT_STRIP_VOLUMES + LONG_STRIP_VOLUMES
