"""Reading the ACTS CSV event layout into the same :class:`Event` as TrackML files.

ACTS writes, per event: ``-measurements.csv`` (local coordinates on a surface identified by
``geometry_id``), ``-hits.csv`` (the simulated hits, "simhits", with truth position and
momentum), ``-measurement-simhit-map.csv`` and ``-particles_initial.csv`` (ACTS >= 40:
``-particles_simulated.csv``). Global hit positions are the measurements' ``global_x/y/z``
where ACTS wrote them (recent versions), else the measurement's local coordinates in the
module frame of the detector's ``detectors.csv`` (searched next to the event and one folder up).

Particle ids: older ACTS writes one ``particle_id``; recent versions write the barcode as five
columns (``particle_id_pv``, ``_sv``, ``_part``, ``_gen``, ``_subpart``), packed here into one
positive int64 by :func:`pack_barcode`.

Mapping to TrackML tables:
- ``hits.hit_id`` is the ACTS ``measurement_id`` (kept, so outputs trace back to ACTS);
  volume/layer/module ids are decoded from ``geometry_id``, which is kept as a column.
- ``truth.particle_id``: the particle contributing most simhits to the measurement; a
  measurement made of several particles' simhits (geometric digitisation merges them) is
  counted in ``truth.n_simhits`` / ``truth.n_particles`` and in ``event.meta``.
- ``particles`` from ``particles_initial``; ``nhits`` counts the particle's measurements.
- ``truth.weight``: the official TrackML weights (:func:`~trackcore.data.weights.official_trackml_weights`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trackcore.data.csv_tables import DETECTOR_FILES, event_id_of, read_detectors, read_table, table_path
from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.schema import COORDINATE_LIMIT_MM, MOMENTUM_LIMIT_GEV, TableSpec
from trackcore.data.validation import validate_event
from trackcore.data.weights import official_trackml_weights

MEASUREMENTS = TableSpec(
    "measurements",
    required={"measurement_id": "i", "geometry_id": "i", "local0": "f", "local1": "f"},
    optional={"global_x": "f", "global_y": "f", "global_z": "f"},
    unique=("measurement_id",),
    limits={c: COORDINATE_LIMIT_MM for c in ("local0", "local1", "global_x", "global_y", "global_z")},
)
SIMHIT_MAP = TableSpec("measurement-simhit-map", required={"measurement_id": "i", "hit_id": "i"})
BARCODE_BITS = (("particle_id_pv", 12), ("particle_id_sv", 12), ("particle_id_part", 16),
                ("particle_id_gen", 8), ("particle_id_subpart", 16))
"""The five barcode columns of recent ACTS CSV files, most significant first, and their widths."""
_PARTICLE_ID = {"particle_id": "i"}
_BARCODE = {name: "i" for name, _ in BARCODE_BITS}
SIMHITS = TableSpec(
    "hits",
    required={"geometry_id": "i", "tx": "f", "ty": "f", "tz": "f", "tpx": "f", "tpy": "f", "tpz": "f"},
    optional={**_PARTICLE_ID, **_BARCODE},
    limits={**{c: COORDINATE_LIMIT_MM for c in ("tx", "ty", "tz")},
            **{c: MOMENTUM_LIMIT_GEV for c in ("tpx", "tpy", "tpz")}},
)
ACTS_PARTICLES = TableSpec(
    "particles_initial",
    required={"particle_type": "i", "vx": "f", "vy": "f", "vz": "f", "px": "f", "py": "f", "pz": "f", "q": "f"},
    optional={**_PARTICLE_ID, **_BARCODE},
    limits={**{c: COORDINATE_LIMIT_MM for c in ("vx", "vy", "vz")},
            **{c: MOMENTUM_LIMIT_GEV for c in ("px", "py", "pz")}},
)
PARTICLE_TABLES = ("particles_initial", "particles_simulated")
"""Names of the ACTS particles table, older first (both describe the particles at creation)."""


def pack_barcode(table: pd.DataFrame, source: str | Path = "") -> np.ndarray:
    """One positive int64 particle id per row from the five ACTS barcode columns.

    Bits, most significant first: primary vertex 12 (the top one left 0, so ids stay positive),
    secondary vertex 12, particle 16, generation 8, sub-particle 16.

    Shapes:
        table: (N rows) with the :data:`BARCODE_BITS` columns; returns (N,) int64.

    Raises:
        DataError: a field is negative or too large for its bits (named with ``source``).
    """
    packed = np.zeros(len(table), dtype=np.uint64)
    shift = 64
    for name, bits in BARCODE_BITS:
        shift -= bits
        values = table[name].to_numpy().astype(np.int64)
        limit = (1 << (bits - 1 if name == "particle_id_pv" else bits)) - 1
        if len(values) and (values.min() < 0 or values.max() > limit):
            raise DataError(source, f"{name} outside 0..{limit} (got {values.min()}..{values.max()}): cannot pack")
        packed |= values.astype(np.uint64) << np.uint64(shift)
    return packed.astype(np.int64)


def _particle_ids(table: pd.DataFrame, source: str | Path) -> pd.DataFrame:
    """``table`` with one ``particle_id`` column (packed from the barcode columns where needed)."""
    if "particle_id" in table.columns:
        return table
    missing = [name for name, _ in BARCODE_BITS if name not in table.columns]
    if missing:
        raise DataError(source, f"no 'particle_id' column and no barcode columns (missing {missing})")
    out = table.drop(columns=[name for name, _ in BARCODE_BITS])
    out.insert(0, "particle_id", pack_barcode(table, source))
    return out


def decode_geometry_id(geometry_id: np.ndarray) -> dict[str, np.ndarray]:
    """Split ACTS ``GeometryIdentifier`` values into volume, boundary, layer, approach, sensitive.

    Shapes:
        geometry_id: (N,) integer; each output (N,) int64.
    """
    g = np.asarray(geometry_id).astype(np.uint64)
    fields = {"volume": (56, 0xFF), "boundary": (48, 0xFF), "layer": (36, 0xFFF),
              "approach": (28, 0xFF), "sensitive": (8, 0xFFFFF)}
    return {k: ((g >> np.uint64(s)) & np.uint64(m)).astype(np.int64) for k, (s, m) in fields.items()}


def _read(prefix: Path, spec: TableSpec, names: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Table ``spec`` of the event (the first of ``names`` that exists, when given)."""
    names = names or (spec.name,)
    path = next((p for name in names if (p := table_path(prefix, name)) is not None), None)
    if path is None:
        raise DataError(f"{prefix}-{names[-1]}.csv", "file not found (required by the ACTS CSV layout)")
    table = read_table(path, spec)
    if "particle_id" in spec.optional:
        table = _particle_ids(table, path)
        if spec is ACTS_PARTICLES and table["particle_id"].duplicated().any():
            raise DataError(path, "particle_id must be unique")
        zero = table["particle_id"].to_numpy() == 0
        if zero.any():
            raise DataError(path, f"particle_id 0 in {int(zero.sum())} row(s) (first on line "
                                  f"{int(np.flatnonzero(zero)[0]) + 2}): 0 means noise, never a particle")
    return table


def find_acts_detectors(prefix: str | Path) -> Path | None:
    """The ``detectors.csv[.gz]`` an ACTS event is read with: next to the event, else one folder up."""
    prefix = Path(prefix)
    for folder in (prefix.parent, prefix.parent.parent):
        for name in DETECTOR_FILES:
            if (folder / name).is_file():
                return folder / name
    return None


def _find_detectors(prefix: Path) -> Path:
    found = find_acts_detectors(prefix)
    if found is not None:
        return found
    raise DataError(
        prefix,
        "ACTS measurements need the detector description: no detectors.csv next to the event "
        "or one folder up",
    )


def read_acts_event(prefix: str | Path, *, detectors: str | Path | None = None,
                    validate: bool = True) -> Event:
    """Read an ACTS CSV event (measurements + simhits + map + particles_initial).

    Args:
        prefix: event prefix, e.g. ``acts/exact/event000000000``.
        detectors: the ACTS ``detectors.csv``; found next to the event by default.
        validate: run :func:`validate_event` on the result.

    Raises:
        DataError: missing tables, measurements on surfaces absent from the detector file,
            map rows pointing at unknown measurements or simhits.
    """
    prefix = Path(prefix)
    meas = _read(prefix, MEASUREMENTS)
    simhits = _read(prefix, SIMHITS)
    hmap = _read(prefix, SIMHIT_MAP)
    particles = _read(prefix, ACTS_PARTICLES, PARTICLE_TABLES)
    gid = meas["geometry_id"].to_numpy()
    det_path: Path | None = None
    if {"global_x", "global_y", "global_z"} <= set(meas.columns) and detectors is None:
        xyz = {a: meas[f"global_{a}"].to_numpy() for a in "xyz"}
    else:
        det_path = Path(detectors) if detectors is not None else _find_detectors(prefix)
        xyz = _global_positions(meas, det_path, prefix)
    ids = decode_geometry_id(gid)
    hits = pd.DataFrame({
        "hit_id": meas["measurement_id"].to_numpy(),
        "x": xyz["x"], "y": xyz["y"], "z": xyz["z"],
        "volume_id": ids["volume"], "layer_id": ids["layer"], "module_id": ids["sensitive"],
        "geometry_id": gid,
    })

    map_path = table_path(prefix, "measurement-simhit-map")
    bad_m = ~np.isin(hmap["measurement_id"].to_numpy(), hits["hit_id"].to_numpy())
    bad_h = (hmap["hit_id"].to_numpy() < 0) | (hmap["hit_id"].to_numpy() >= len(simhits))
    if bad_m.any() or bad_h.any():
        raise DataError(
            map_path,
            f"{int(bad_m.sum())} row(s) refer to unknown measurements and {int(bad_h.sum())} "
            f"to simhit rows outside 0..{len(simhits) - 1}",
        )
    # The map's hit_id is the simhit's row number in the simhits file.
    sh = simhits.iloc[hmap["hit_id"].to_numpy()].reset_index(drop=True)
    sh["measurement_id"] = hmap["measurement_id"].to_numpy()
    per_particle = sh.groupby(["measurement_id", "particle_id"], sort=False)
    contrib = per_particle.size().rename("n").reset_index()
    # Majority particle per measurement; ties go to the first simhit's particle (stable sort).
    best = contrib.sort_values(["measurement_id", "n"], ascending=[True, False], kind="stable")
    best = best.drop_duplicates("measurement_id")
    means = per_particle[["tx", "ty", "tz", "tpx", "tpy", "tpz"]].mean().reset_index()
    truth = best[["measurement_id", "particle_id"]].merge(means, on=["measurement_id", "particle_id"])
    counts = sh.groupby("measurement_id").agg(n_simhits=("particle_id", "size"),
                                              n_particles=("particle_id", "nunique"))
    truth = truth.merge(counts, left_on="measurement_id", right_index=True)
    truth = hits[["hit_id"]].merge(truth.rename(columns={"measurement_id": "hit_id"}),
                                   on="hit_id", how="left")
    # Measurements without simhits (none in ACTS output, but possible) are noise.
    truth["particle_id"] = truth["particle_id"].fillna(0).astype(np.int64)
    for c in ("tx", "ty", "tz", "tpx", "tpy", "tpz"):
        truth[c] = truth[c].fillna(0.0)
    for c in ("n_simhits", "n_particles"):
        truth[c] = truth[c].fillna(0).astype(np.int64)
    nhits = truth.loc[truth.particle_id != 0, "particle_id"].value_counts()
    p = particles
    parts = pd.DataFrame({
        "particle_id": p["particle_id"].to_numpy(),
        "vx": p["vx"].to_numpy(), "vy": p["vy"].to_numpy(), "vz": p["vz"].to_numpy(),
        "px": p["px"].to_numpy(), "py": p["py"].to_numpy(), "pz": p["pz"].to_numpy(),
        "q": np.rint(p["q"].to_numpy()).astype(np.int64),
        "nhits": nhits.reindex(p["particle_id"].to_numpy()).fillna(0).astype(np.int64).to_numpy(),
        "particle_type": p["particle_type"].to_numpy(),
    })
    truth.insert(8, "weight", official_trackml_weights(truth, parts, source=str(prefix)))
    event = Event(
        event_id=event_id_of(prefix),
        hits=hits,
        particles=parts,
        truth=truth,
        truth_kind="full",
        source=str(prefix),
        meta={"format": "acts-csv", "detectors": None if det_path is None else str(det_path),
              "merged_measurements": int((truth["n_particles"] > 1).sum()),
              "simhits_without_measurement": int(len(simhits) - hmap["hit_id"].nunique())},
    )
    if validate:
        validate_event(event)
    return event


def _global_positions(meas: pd.DataFrame, det_path: Path, prefix: Path) -> dict[str, np.ndarray]:
    """Global position = module centre + rotation @ (local0, local1, 0), from ``detectors.csv``."""
    det = read_detectors(det_path)
    if "geometry_id" not in det.columns:
        raise DataError(det_path, "ACTS detectors.csv needs a 'geometry_id' column")
    frame = det.set_index("geometry_id")
    gid = meas["geometry_id"].to_numpy()
    known = np.isin(gid, frame.index.to_numpy())
    if not known.all():
        raise DataError(
            table_path(prefix, "measurements"),
            f"{int((~known).sum())} measurement(s) on surfaces absent from {det_path}: "
            f"geometry_id {np.unique(gid[~known])[:3].tolist()}",
        )
    f = frame.loc[gid]
    l0, l1 = meas["local0"].to_numpy(), meas["local1"].to_numpy()
    return {a: f[f"c{a}"].to_numpy() + f[f"rot_{a}u"].to_numpy() * l0 + f[f"rot_{a}v"].to_numpy() * l1
            for a in "xyz"}
