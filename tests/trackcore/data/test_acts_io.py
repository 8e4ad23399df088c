"""ACTS CSV events read into the same Event as TrackML files."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import shared_data
from trackcore.data import read_event
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
