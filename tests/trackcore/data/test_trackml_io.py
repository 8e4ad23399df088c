"""TrackML CSV reading and writing, on hand-built and real events."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_event, shared_data
from trackcore.data import list_events, read_detectors, read_event, read_events, write_event
from trackcore.data.trackml_io import event_prefix


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_is_identical(tmp_path: Path, compress: bool) -> None:
    event = make_event(seed=3)
    # Values that a short float format would round: full precision must survive.
    event.hits.loc[0, "x"] = 1 / 3
    event.truth.loc[0, "tx"] = np.nextafter(1.0, 2.0)
    prefix = write_event(event, tmp_path, compress=compress)
    assert prefix.name == "event000001000"
    back = read_event(prefix)
    for name in ("hits", "particles", "truth"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(event, name), check_dtype=True)
    assert back.truth_kind == "full" and back.event_id == 1000


def test_any_file_of_the_event_names_it(tmp_path: Path) -> None:
    prefix = write_event(make_event(), tmp_path)
    for suffix in ("-hits.csv", "-truth.csv", ""):
        assert read_event(f"{prefix}{suffix}").n_hits == 14
    assert event_prefix(tmp_path / "event000000042-cells.csv.gz").name == "event000000042"


def test_partial_truth_round_trip(tmp_path: Path) -> None:
    event = make_event()
    event.truth = event.truth[["hit_id", "particle_id"]].iloc[:5].reset_index(drop=True)
    event.truth_kind = "partial"
    back = read_event(write_event(event, tmp_path))
    assert back.truth_kind == "partial"
    assert back.labelled_mask().sum() == 5
    assert (back.hit_particle_id()[5:] == 0).all()


@pytest.mark.realdata
def test_real_partial_truth_events_read() -> None:
    folder = shared_data("trackml_real_partial")
    prefixes = list_events(folder)
    assert len(prefixes) == 40
    n_hits = []
    for event in read_events(folder):
        assert event.truth_kind == "partial"
        n_hits.append(event.n_hits)
        # Labelled hits are ~12% of the event (data README).
        assert 0.05 < event.labelled_mask().mean() < 0.2
    assert 70_000 < np.mean(n_hits) < 130_000


@pytest.mark.realdata
@pytest.mark.parametrize("folder,n_hits,has_cells", [
    ("trackml_subset_full_truth", 5527, True),
    ("trackml_barrel_1pct", 546, False),
])
def test_real_full_truth_subsets_read(folder: str, n_hits: int, has_cells: bool) -> None:
    event = read_event(shared_data(folder))
    assert event.n_hits == n_hits and event.truth_kind == "full"
    assert (event.cells is not None) == has_cells
    assert set(event.truth["hit_id"]) == set(event.hits["hit_id"])


@pytest.mark.realdata
@pytest.mark.parametrize("path", ["geometry/detectors.csv", "trackml_subset_full_truth/detectors.csv.gz"])
def test_detector_descriptions_read(path: str) -> None:
    det = read_detectors(shared_data(path))
    assert len(det) == 18728
    assert set(det["volume_id"]) == {7, 8, 9, 12, 13, 14, 16, 17, 18}
