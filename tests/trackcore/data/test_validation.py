"""Bad input gets a clear DataError naming the file and the problem; nothing is silently dropped."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_event
from trackcore.data import DataError, list_events, read_event, write_event


def _write(tmp_path: Path, mutate: Callable[[dict[str, pd.DataFrame]], None]) -> Path:
    event = make_event()
    tables = {"hits": event.hits.copy(), "particles": event.particles.copy(), "truth": event.truth.copy()}
    mutate(tables)
    prefix = tmp_path / "event000001000"
    for name, df in tables.items():
        if df is not None:
            df.to_csv(f"{prefix}-{name}.csv", index=False)
    return prefix


def _set(table: str, column: str, row: int, value: object) -> Callable:
    def mutate(t: dict) -> None:
        t[table] = t[table].astype({column: object})
        t[table].loc[row, column] = value
    return mutate


CASES = {
    # name: (mutation, file suffix named in the error, message pattern)
    "missing_column": (lambda t: t.update(hits=t["hits"].drop(columns="z")), "hits.csv",
                       r"missing required column\(s\) 'z'"),
    "misspelt_column": (lambda t: t.update(hits=t["hits"].rename(columns={"volume_id": "volme_id"})),
                        "hits.csv", r"'volume_id' \(found 'volme_id': misspelt\?\)"),
    "nan": (_set("hits", "x", 3, np.nan), "hits.csv", r"column 'x' has 1 NaN value\(s\) \(lines 5\)"),
    "inf": (_set("hits", "y", 0, np.inf), "hits.csv", r"column 'y' has 1 NaN/inf value\(s\) \(lines 2\)"),
    "non_numeric": (_set("hits", "x", 2, "abc"), "hits.csv",
                    r"column 'x' must be numeric but has non-numeric values 'abc' \(lines 4\)"),
    "fractional_id": (_set("hits", "volume_id", 1, 7.5), "hits.csv",
                      r"column 'volume_id' must hold integers but has fractional values 7.5"),
    "duplicate_hit_id": (_set("hits", "hit_id", 1, 1), "hits.csv", r"duplicate hit_id values 1"),
    "duplicate_particle_id": (_set("particles", "particle_id", 1, 1000), "particles.csv",
                              r"duplicate particle_id values 1000"),
    "truth_unknown_hit": (_set("truth", "hit_id", 0, 999), "truth",
                          r"1 truth row\(s\) refer to hit_id\(s\) not in the hits table: 999"),
    "truth_unknown_particle": (_set("truth", "particle_id", 0, 424242), "truth",
                               r"refer to particle_id\(s\) not in the particles table: 424242"),
    "truth_missing_hits": (lambda t: t.update(truth=t["truth"].iloc[2:]), "truth",
                           r"2 hit\(s\) have no truth row"),
    "empty_event": (lambda t: t.update(hits=t["hits"].iloc[:0], truth=t["truth"].iloc[:0]), "hits",
                    r"event has no hits \(empty event\)"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_reported_with_file_and_problem(tmp_path: Path, case: str) -> None:
    mutate, file_part, pattern = CASES[case]
    prefix = _write(tmp_path, mutate)
    with pytest.raises(DataError, match=pattern) as info:
        read_event(prefix)
    assert file_part in info.value.path
    assert str(info.value).startswith(info.value.path)


def test_missing_hits_file(tmp_path: Path) -> None:
    prefix = _write(tmp_path, lambda t: None)
    Path(f"{prefix}-hits.csv").unlink()
    with pytest.raises(DataError, match=r"event000001000-hits.csv: file not found"):
        read_event(prefix)


def test_missing_path() -> None:
    with pytest.raises(DataError, match=r"no_such_dir: no such file or folder"):
        read_event("no_such_dir")


def test_empty_file(tmp_path: Path) -> None:
    prefix = _write(tmp_path, lambda t: None)
    Path(f"{prefix}-particles.csv").write_text("")
    with pytest.raises(DataError, match=r"particles.csv: file is empty"):
        read_event(prefix)


def test_corrupt_gzip(tmp_path: Path) -> None:
    prefix = _write(tmp_path, lambda t: None)
    Path(f"{prefix}-hits.csv").unlink()
    Path(f"{prefix}-hits.csv.gz").write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(DataError, match=r"hits.csv.gz: cannot be parsed as CSV"):
        read_event(prefix)


def test_both_csv_and_gz(tmp_path: Path) -> None:
    prefix = _write(tmp_path, lambda t: None)
    with gzip.open(f"{prefix}-hits.csv.gz", "wt") as f:
        f.write(Path(f"{prefix}-hits.csv").read_text())
    with pytest.raises(DataError, match=r"both event000001000-hits.csv and event000001000-hits.csv.gz exist"):
        read_event(prefix)


def test_truth_and_partial_truth_together(tmp_path: Path) -> None:
    prefix = _write(tmp_path, lambda t: None)
    pd.DataFrame({"hit_id": [1], "particle_id": [1000]}).to_csv(f"{prefix}-truth-partial.csv", index=False)
    with pytest.raises(DataError, match=r"has both a truth and a truth-partial table"):
        read_event(prefix)


def test_cells_of_unknown_hits(tmp_path: Path) -> None:
    prefix = _write(tmp_path, lambda t: None)
    pd.DataFrame({"hit_id": [1, 77], "ch0": [1, 2], "ch1": [3, 4], "value": [0.1, 0.2]}).to_csv(
        f"{prefix}-cells.csv", index=False)
    with pytest.raises(DataError, match=r"-cells.csv: 1 cell row\(s\) refer to hit_id\(s\) not in the hits table: 77"):
        read_event(prefix)


def test_folder_without_events(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(DataError, match=r"no TrackML events found"):
        list_events(tmp_path)


def test_folder_with_many_events_is_not_one_event(tmp_path: Path) -> None:
    for i in (1000, 1001):
        e = make_event()
        e.event_id = i
        write_event(e, tmp_path)
    with pytest.raises(DataError, match=r"folder holds 2 events"):
        read_event(tmp_path)
    assert [p.name for p in list_events(tmp_path)] == ["event000001000", "event000001001"]


def test_extra_columns_are_kept(tmp_path: Path) -> None:
    prefix = _write(tmp_path, lambda t: t["hits"].insert(7, "my_flag", 1))
    assert (read_event(prefix).hits["my_flag"] == 1).all()
