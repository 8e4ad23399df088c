"""Input that used to be read silently wrong: now a DataError naming file, column and line (issue 27)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_event, shared_data
from trackcore.data import DataError, list_events, read_detectors, read_event, write_event
from trackcore.data.features import hit_features
from trackcore.data.geometry import ModuleLocator
from trackcore.data.schema import COORDINATE_LIMIT_MM


def _written(tmp_path: Path) -> Path:
    return write_event(make_event(), tmp_path)


def _set_cell(path: Path, column: str, row: int, text: str) -> int:
    """Replace one cell of a written CSV by ``text``; returns its file line number."""
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    fields = lines[row + 1].split(",")
    fields[header.index(column)] = text
    lines[row + 1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    return row + 2


@pytest.mark.parametrize(("table", "column", "text", "pattern"), [
    ("hits", "hit_id", "18446744073709551615", r"beyond the int64 range .*18446744073709551615"),
    ("hits", "hit_id", "-9223372036854775809", r"beyond the int64 range"),
    ("hits", "hit_id", "1e20", r"written as floats beyond 2\*\*53, .*unknown: 1e20 "),
    ("hits", "layer_id", "1.5e19", r"written as floats beyond 2\*\*53, .*unknown: 1.5e19 "),
    ("particles", "particle_id", "18446744073709551615", r"beyond the int64 range"),
    ("truth", "particle_id", "18446744073709551615", r"beyond the int64 range"),
    ("particles", "particle_id", "747605990655922177.0", r"written as floats beyond 2\*\*53.*747605990655922177.0"),
    ("hits", "module_id", "12.5", r"fractional values 12.5"),
    ("hits", "module_id", "", r"missing \(empty or NaN\) integer"),
    ("hits", "module_id", "0x10", r"non-numeric values '0x10'"),
    ("hits", "module_id", "1_000", r"non-numeric values '1_000'"),
])
def test_integer_ids_never_wrap_or_round(tmp_path: Path, table: str, column: str, text: str, pattern: str) -> None:
    prefix = _written(tmp_path)
    path = Path(f"{prefix}-{table}.csv")
    line = _set_cell(path, column, 1, text)
    with pytest.raises(DataError, match=pattern) as info:
        read_event(prefix)
    assert info.value.path == str(path)
    assert f"column '{column}'" in info.value.problem
    assert re.search(rf"\blines? {line}\b", info.value.problem)


def test_ids_are_read_exactly_even_beside_float_written_ones(tmp_path: Path) -> None:
    # A float-written 1000.0 makes pandas parse the whole column as float64, which would
    # round 2**53 + 1 and 2**63 - 1; the reader parses the text instead.
    event = make_event()
    big = [2**63 - 1, 2**53 + 1, -(2**63)]
    event.particles["particle_id"] = np.array([*big], dtype=np.int64)
    pid = event.truth["particle_id"].to_numpy().copy()
    for old, new in zip([1000, 2000, 3000], big, strict=True):
        pid[pid == old] = new
    event.truth["particle_id"] = pid
    prefix = write_event(event, tmp_path)
    path = Path(f"{prefix}-truth.csv")
    noise_row = int(np.flatnonzero(pid == 0)[0])
    _set_cell(path, "particle_id", noise_row, "0.0")
    _set_cell(path, "hit_id", 0, "1.0")
    back = read_event(prefix)
    assert back.truth["particle_id"].dtype == np.int64
    np.testing.assert_array_equal(back.truth["particle_id"].to_numpy(), pid)
    np.testing.assert_array_equal(back.particles["particle_id"].to_numpy(), big)
    assert back.truth["hit_id"].iloc[0] == 1


@pytest.mark.parametrize(("table", "column"), [("hits", "x"), ("truth", "tz"), ("particles", "vz")])
def test_coordinates_beyond_any_detector_are_rejected(tmp_path: Path, table: str, column: str) -> None:
    prefix = _written(tmp_path)
    line = _set_cell(Path(f"{prefix}-{table}.csv"), column, 2, "1e300")
    with pytest.raises(DataError, match=rf"column '{column}' has 1 value\(s\) beyond \+-100000 mm.*lines {line}"):
        read_event(prefix)


def test_a_coordinate_just_inside_the_limit_is_kept(tmp_path: Path) -> None:
    prefix = _written(tmp_path)
    _set_cell(Path(f"{prefix}-hits.csv"), "z", 0, repr(COORDINATE_LIMIT_MM))
    assert read_event(prefix).hits["z"].iloc[0] == COORDINATE_LIMIT_MM


def test_a_hit_on_the_beam_axis_has_no_eta_feature() -> None:
    hits = pd.DataFrame({"hit_id": [7, 8], "x": [0.0, 30.0], "y": [0.0, 1.0], "z": [5.0, 5.0]})
    with pytest.raises(DataError, match=r"^ev/event000001000: 1 hit\(s\) on the beam axis .*hit_id \[7\]"):
        hit_features(hits, source="ev/event000001000")
    x = hit_features(hits, use_eta=False, source="ev/event000001000")
    assert np.isfinite(x).all()


def test_cell_charge_that_overflows_float32_is_an_error() -> None:
    hits = pd.DataFrame({"hit_id": [1, 2], "x": [30.0, 40.0], "y": [1.0, 1.0], "z": [5.0, 5.0]})
    cells = pd.DataFrame({"hit_id": [2], "ch0": [1], "ch1": [1], "value": [1e300]})
    with pytest.raises(DataError, match=r"non-finite float32 feature \['cell_charge'\]: hit_id \[2\]"):
        hit_features(hits, cells=cells, source="ev")


def test_repeated_column_name_is_rejected(tmp_path: Path) -> None:
    prefix = _written(tmp_path)
    path = Path(f"{prefix}-hits.csv")
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("module_id", "x")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"column\(s\) \['x'\] appear more than once in the header") as info:
        read_event(prefix)
    assert info.value.path == str(path)


def test_an_extra_field_on_line_2_does_not_shift_the_columns(tmp_path: Path) -> None:
    prefix = _written(tmp_path)
    path = Path(f"{prefix}-hits.csv")
    lines = path.read_text().splitlines()
    lines[1] += ",7"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"line 2 has more fields than the 7 columns of the header"):
        read_event(prefix)


def test_two_prefixes_of_one_event_id_are_rejected(tmp_path: Path) -> None:
    prefix = _written(tmp_path)
    short = tmp_path / "event1000-hits.csv"
    short.write_text(Path(f"{prefix}-hits.csv").read_text())
    with pytest.raises(DataError, match=r"event000001000-hits.csv and event1000-hits.csv are two prefixes "
                                        r"of the same event id 1000"):
        list_events(tmp_path)


def test_particle_with_the_noise_id_is_rejected(tmp_path: Path) -> None:
    prefix = _written(tmp_path)
    path = Path(f"{prefix}-particles.csv")
    line = _set_cell(path, "particle_id", 1, "0")
    with pytest.raises(DataError, match=rf"particle_id 0 in 1 row\(s\) \(lines {line}\): 0 means noise") as info:
        read_event(prefix)
    assert info.value.path == str(path)


def _detectors(volumes_layers: list[tuple[int, int]]) -> pd.DataFrame:
    rows = [dict(volume_id=v, layer_id=lay, module_id=1, cx=30.0 * lay, cy=0.0, cz=0.0,
                 rot_xu=1.0, rot_xv=0.0, rot_xw=0.0, rot_yu=0.0, rot_yv=1.0, rot_yw=0.0,
                 rot_zu=0.0, rot_zv=0.0, rot_zw=1.0, module_t=0.15, pitch_u=0.05, pitch_v=0.05)
            for v, lay in volumes_layers]
    return pd.DataFrame(rows)


def test_hits_outside_the_detector_beside_the_event(tmp_path: Path) -> None:
    prefix = _written(tmp_path)  # hits in volume 8, layers 2..8
    _detectors([(7, 2), (9, 2)]).to_csv(tmp_path / "detectors.csv", index=False)
    with pytest.raises(DataError, match=r"14 hit\(s\) in volume_id\(s\) \[8\] that the detector "
                                        r".*detectors.csv does not have \(its volumes: \[7, 9\]") as info:
        read_event(prefix)
    assert info.value.path == f"{prefix}-hits.csv"
    _detectors([(8, 2), (8, 4), (8, 6)]).to_csv(tmp_path / "detectors.csv", index=False)
    with pytest.raises(DataError, match=r"3 hit\(s\) on \(volume_id, layer_id\) \[\(8, 8\)\]"):
        read_event(prefix)
    _detectors([(8, 2), (8, 4), (8, 6), (8, 8)]).to_csv(tmp_path / "detectors.csv", index=False)
    assert read_event(prefix).n_hits == 14


def test_explicit_detector_description(tmp_path: Path) -> None:
    prefix = _written(tmp_path / "events")
    _detectors([(7, 2)]).to_csv(tmp_path / "odd.csv", index=False)
    assert read_event(prefix).n_hits == 14  # no detector known: nothing to check against
    with pytest.raises(DataError, match=r"in volume_id\(s\) \[8\] that the detector .*odd.csv"):
        read_event(prefix, detectors=tmp_path / "odd.csv")


@pytest.mark.realdata
def test_real_subset_lies_on_its_detector() -> None:
    event = read_event(shared_data("trackml_subset_full_truth"), detectors=shared_data("geometry", "detectors.csv"))
    assert event.n_hits == 5527


def test_header_only_detectors_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "detectors.csv"
    _detectors([(8, 2)]).iloc[:0].to_csv(path, index=False)
    with pytest.raises(DataError, match=r"detectors.csv: describes no module \(header only\)"):
        read_detectors(path)
    with pytest.raises(ValueError, match=r"no modules"):
        ModuleLocator(_detectors([(8, 2)]).iloc[:0])


def test_simulate_with_header_only_detectors_fails_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from trackcore.cli import main

    path = tmp_path / "detectors.csv"
    _detectors([(8, 2)]).iloc[:0].to_csv(path, index=False)
    assert main(["simulate", "--preset", "tiny", "--events", "1", "--out", str(tmp_path / "out"),
                 "--detectors", str(path)]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"{path}: describes no module" in err
    assert not any((tmp_path / "out").glob("event*"))


def test_simulate_with_detectors_lacking_the_preset_layers(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from trackcore.cli import main

    path = tmp_path / "detectors.csv"
    _detectors([(8, 2), (8, 4)]).to_csv(path, index=False)
    assert main(["simulate", "--preset", "tiny", "--events", "1", "--out", str(tmp_path / "out"),
                 "--detectors", str(path)]) != 0
    err = capsys.readouterr().err.strip()
    assert f"{path}: has no modules on 16 layer(s) of the tiny preset" in err and "(7, 2)" in err
