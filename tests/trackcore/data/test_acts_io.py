"""ACTS CSV events read into the same Event as TrackML files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import shared_data
from trackcore.data import DataError, read_event
from trackcore.data.acts_io import decode_geometry_id


def test_decode_geometry_id() -> None:
    gid = np.array([(16 << 56) | (4 << 36) | (123 << 8)], dtype=np.uint64)
    ids = decode_geometry_id(gid)
    assert (ids["volume"][0], ids["layer"][0], ids["sensitive"][0], ids["boundary"][0]) == (16, 4, 123, 0)


@pytest.mark.realdata
@pytest.mark.parametrize("digi,n_hits,max_offset_mm", [("exact", 11862, 1e-3), ("geometric", 10907, 2.0)])
def test_acts_odd_event(digi: str, n_hits: int, max_offset_mm: float) -> None:
    event = read_event(shared_data("acts_odd_muons", digi, "event000000000"))
    assert event.n_hits == n_hits and event.truth_kind == "full"
    assert event.meta["format"] == "acts-csv"
    # Global positions from local coordinates + module frames land on the true simhits:
    # exactly for exact digitisation, within a pixel/strip pitch for geometric.
    m = event.truth.merge(event.hits, on="hit_id")
    offset = np.linalg.norm(m[["x", "y", "z"]].to_numpy() - m[["tx", "ty", "tz"]].to_numpy(), axis=1)
    assert offset.max() < max_offset_mm
    assert set(event.hits["volume_id"]) == {16, 17, 18, 23, 24, 25, 28, 29, 30}
    # 1,000 muons; every measurement belongs to a known particle; nhits counts measurements.
    assert len(event.particles) == 1000
    assert (event.truth["particle_id"] != 0).all()
    assert event.particles["nhits"].sum() == n_hits
    assert event.truth["weight"].sum() == pytest.approx(1.0)


def _write_acts_event(folder: Path, particle_id: int = 7) -> Path:
    """One particle from the origin with 4 measurements whose 3D-distance and |dz| orders differ."""
    xyz = np.array([[30.0, 0, 40], [100.0, 0, 10], [150.0, 0, 60], [200.0, 0, 80]])  # 3D: 50, 100.5, 162, 215
    gid = (np.arange(1, 5, dtype=np.int64) << 36) | (16 << 56) | (1 << 8)
    prefix = folder / "event000000000"
    pd.DataFrame({"measurement_id": np.arange(4), "geometry_id": gid, "local0": 0.0, "local1": 0.0,
                  "global_x": xyz[:, 0], "global_y": xyz[:, 1], "global_z": xyz[:, 2]}
                 ).to_csv(f"{prefix}-measurements.csv", index=False)
    pd.DataFrame({"particle_id": particle_id, "geometry_id": gid, "tx": xyz[:, 0], "ty": xyz[:, 1],
                  "tz": xyz[:, 2], "tpx": 2.0, "tpy": 0.0, "tpz": 1.0}).to_csv(f"{prefix}-hits.csv", index=False)
    pd.DataFrame({"measurement_id": np.arange(4), "hit_id": np.arange(4)}
                 ).to_csv(f"{prefix}-measurement-simhit-map.csv", index=False)
    pd.DataFrame({"particle_id": [particle_id], "particle_type": [13], "vx": [0.0], "vy": [0.0], "vz": [0.0],
                  "px": [2.0], "py": [0.0], "pz": [1.0], "q": [-1.0]}
                 ).to_csv(f"{prefix}-particles_initial.csv", index=False)
    return prefix


def test_acts_weights_rank_hits_by_dz_as_the_challenge(tmp_path: Path) -> None:
    event = read_event(_write_acts_event(tmp_path))
    # |dz| = 40, 10, 60, 80: the second measurement is first in z though not in 3D distance.
    # 4-hit order row 10, 16/3, 3, 6 (sum 73/3).
    np.testing.assert_allclose(event.truth["weight"], np.array([16, 30, 9, 18]) / 73, rtol=1e-12)


@pytest.mark.parametrize(("table", "n_rows"), [("particles_initial", 1), ("hits", 4)])
def test_acts_particle_with_the_noise_id_is_rejected(tmp_path: Path, table: str, n_rows: int) -> None:
    prefix = _write_acts_event(tmp_path)
    path = Path(f"{prefix}-{table}.csv")
    path.write_text(path.read_text().replace("\n7,", "\n0,"))
    with pytest.raises(DataError, match=rf"{table}.csv: particle_id 0 in {n_rows} row\(s\) \(first on line 2\)"):
        read_event(prefix)
