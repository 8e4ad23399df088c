"""Column specifications of the TrackML tables, exactly as the challenge defines them.

Each table has required columns with a dtype *kind* (``"i"`` integer, ``"f"`` float)
and optional columns that are kept when present. Extra columns are kept too: nothing
a user wrote is silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableSpec:
    """Required and optional columns of one TrackML table.

    Args:
        name: table name, also the file suffix (``event000001000-<name>.csv``).
        required: column name -> dtype kind (``"i"`` integer, ``"f"`` float).
        optional: columns read with their kind when present.
        unique: columns whose value must be unique per row (e.g. ``hit_id``).
    """

    name: str
    required: dict[str, str]
    optional: dict[str, str] = field(default_factory=dict)
    unique: tuple[str, ...] = ()

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}


HITS = TableSpec(
    "hits",
    required={
        "hit_id": "i", "x": "f", "y": "f", "z": "f",
        "volume_id": "i", "layer_id": "i", "module_id": "i",
    },
    unique=("hit_id",),
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
)
TRUTH = TableSpec(
    "truth",
    required={
        "hit_id": "i", "particle_id": "i", "tx": "f", "ty": "f", "tz": "f",
        "tpx": "f", "tpy": "f", "tpz": "f", "weight": "f",
    },
    unique=("hit_id",),
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
)

EVENT_TABLES: dict[str, TableSpec] = {
    s.name: s for s in (HITS, CELLS, PARTICLES, TRUTH, TRUTH_PARTIAL)
}

# Volumes of the TrackML detector (DESIGN.md, "Data contract").
PIXEL_VOLUMES = (7, 8, 9)
SHORT_STRIP_VOLUMES = (12, 13, 14)
LONG_STRIP_VOLUMES = (16, 17, 18)
ALL_VOLUMES = PIXEL_VOLUMES + SHORT_STRIP_VOLUMES + LONG_STRIP_VOLUMES
