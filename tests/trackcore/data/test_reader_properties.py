"""Property tests of the TrackML reader and writer (hypothesis, derandomized so CI is stable).

1. Any valid event written with ``write_event`` reads back identical: every table, dtype and
   value, 64-bit ids near +-2**63, negative partial-truth ids, full-precision floats.
2. Any corruption of one written file (a cell of a spec column replaced with garbage, NaN or
   a huge integer; a repeated header name; a file cut short; a required column deleted)
   raises a one-line DataError whose message starts with that file's path, or reads back
   unchanged: never a silently different event.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trackcore.data import DataError, Event, read_event, write_event
from trackcore.data.schema import COORDINATE_LIMIT_MM, EVENT_TABLES, MOMENTUM_LIMIT_GEV

SETTINGS = settings(max_examples=50, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

INT64 = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**63 - 1, 2**63 - 2, -(2**63), -(2**63) + 1, 2**53 + 1, -(2**53) - 1, 1, -1, 0]),
)
IDS = INT64.filter(lambda v: v != 0)
COORD = st.floats(-COORDINATE_LIMIT_MM, COORDINATE_LIMIT_MM, allow_nan=False)
MOMENTUM = st.floats(-MOMENTUM_LIMIT_GEV, MOMENTUM_LIMIT_GEV, allow_nan=False)
ANY_FLOAT = st.floats(allow_nan=False, allow_infinity=False)


def _column(draw: st.DrawFn, strategy: st.SearchStrategy, n: int, dtype: type) -> np.ndarray:
    return draw(arrays(dtype, n, elements=strategy))


@st.composite
def events(draw: st.DrawFn) -> Event:
    """A random valid event: hits, maybe particles, full/partial/no truth, maybe cells."""
    n = draw(st.integers(1, 10))
    hit_id = np.array(draw(st.lists(INT64, min_size=n, max_size=n, unique=True)), dtype=np.int64)
    hits = pd.DataFrame({
        "hit_id": hit_id, "x": _column(draw, COORD, n, np.float64), "y": _column(draw, COORD, n, np.float64),
        "z": _column(draw, COORD, n, np.float64), "volume_id": _column(draw, INT64, n, np.int64),
        "layer_id": _column(draw, INT64, n, np.int64), "module_id": _column(draw, INT64, n, np.int64),
    })
    if draw(st.booleans()):
        hits["my_extra"] = _column(draw, ANY_FLOAT, n, np.float64)  # extra columns are kept
    n_p = draw(st.integers(0, 4))
    pid = np.array(draw(st.lists(IDS, min_size=n_p, max_size=n_p, unique=True)), dtype=np.int64)
    particles = pd.DataFrame({
        "particle_id": pid, **{c: _column(draw, COORD, n_p, np.float64) for c in ("vx", "vy", "vz")},
        **{c: _column(draw, MOMENTUM, n_p, np.float64) for c in ("px", "py", "pz")},
        "q": _column(draw, INT64, n_p, np.int64), "nhits": _column(draw, INT64, n_p, np.int64),
    })
    if draw(st.booleans()):
        particles["particle_type"] = _column(draw, INT64, n_p, np.int64)
    kind = draw(st.sampled_from(["full", "partial", "none"]))
    truth = None
    owner = st.sampled_from([0, *pid.tolist()])
    if kind == "full":
        order = np.array(draw(st.permutations(range(n))))
        truth = pd.DataFrame({
            "hit_id": hit_id[order], "particle_id": _column(draw, owner, n, np.int64),
            **{c: _column(draw, COORD, n, np.float64) for c in ("tx", "ty", "tz")},
            **{c: _column(draw, MOMENTUM, n, np.float64) for c in ("tpx", "tpy", "tpz")},
            "weight": _column(draw, ANY_FLOAT, n, np.float64),
        })
    elif kind == "partial":
        labelled = draw(st.lists(st.sampled_from(hit_id.tolist()), unique=True, max_size=n))
        unrecovered = st.integers(-(2**63), -1)  # negative: a particle whose id was not recovered
        truth = pd.DataFrame({
            "hit_id": np.array(labelled, dtype=np.int64),
            "particle_id": _column(draw, st.one_of(owner, unrecovered), len(labelled), np.int64),
        })
    cells = None
    if draw(st.booleans()):
        m = draw(st.integers(0, 6))
        cells = pd.DataFrame({
            "hit_id": _column(draw, st.sampled_from(hit_id.tolist()), m, np.int64),
            "ch0": _column(draw, INT64, m, np.int64), "ch1": _column(draw, INT64, m, np.int64),
            "value": _column(draw, ANY_FLOAT, m, np.float64),
        })
    return Event(event_id=draw(st.integers(0, 10**10)), hits=hits,
                 particles=particles if (n_p or draw(st.booleans())) else None,
                 truth=truth, cells=cells, truth_kind=kind)


def _assert_same(back: Event, event: Event) -> None:
    assert back.event_id == event.event_id and back.truth_kind == event.truth_kind
    for name in ("hits", "particles", "truth", "cells"):
        a, b = getattr(back, name), getattr(event, name)
        assert (a is None) == (b is None), name
        if b is not None:
            pd.testing.assert_frame_equal(a, b, check_dtype=True, check_exact=True, obj=name)


@SETTINGS
@given(event=events(), compress=st.booleans())
def test_write_then_read_is_the_identity(event: Event, compress: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _assert_same(read_event(write_event(event, tmp, compress=compress)), event)


def _spec_of(path: Path):
    name = path.name.split("-", 1)[1].split(".csv")[0]
    return EVENT_TABLES[name]


def _huge(column_kind: str, limited: bool) -> st.SearchStrategy[int]:
    """An integer the column cannot hold: beyond int64, beyond the range, or beyond float64."""
    low = 2**63 if column_kind == "i" else (10**9 if limited else 2**1024)
    # the negative side one further: -2**63 is an int64
    return st.tuples(st.integers(low, 10**400), st.booleans()).map(lambda t: -t[0] - 1 if t[1] else t[0])


GARBAGE = st.tuples(st.text(alphabet="0123456789.-+e", max_size=4), st.sampled_from("gx#?!;_@"),
                    st.text(max_size=4)).map("".join)
NAN_TEXT = st.sampled_from(["", "NaN", "nan", "NA", "N/A", "null", "None", "inf", "-inf", "#N/A", "<NA>"])


@st.composite
def corrupted(draw: st.DrawFn, text: str, spec) -> str:
    """``text`` (a written CSV) with one corruption that no reader may accept silently."""
    lines = text.split("\n")[:-1]
    header = lines[0].split(",")
    spec_cols = [i for i, c in enumerate(header) if c in spec.columns]
    kinds = ["repeat_header", "truncate", "drop_column"] + (["garbage", "nan", "huge"] if len(lines) > 1 else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "repeat_header":
        i, j = draw(st.lists(st.integers(0, len(header) - 1), min_size=2, max_size=2, unique=True))
        lines[0] = ",".join(header[i] if k == j else c for k, c in enumerate(header))
        return "\n".join(lines) + "\n"
    if kind == "truncate":
        cut = text[: draw(st.integers(0, len(text) - 1))]
        last = cut.rsplit("\n", 1)[-1]
        assume(last.count(",") < lines[0].count(","))  # a line cut in its last field still holds a valid value
        if len(lines) == 1 and "\n" not in cut:  # a table of no rows cut in its header: undetectable where the
            names = cut.split(",")  # cut leaves every required column whole (the last one is, cut at a comma)
            whole = names if text[len(cut)] in ",\n" else names[:-1]
            assume(not set(spec.required) <= set(whole))
        return cut if not cut.endswith("\n") else cut[:-1]  # a cut at a line end is undetectable
    if kind == "drop_column":
        i = draw(st.sampled_from([k for k in spec_cols if header[k] in spec.required]))
        return "\n".join(",".join(f for k, f in enumerate(line.split(",")) if k != i) for line in lines) + "\n"
    row = draw(st.integers(1, len(lines) - 1))
    col = draw(st.sampled_from(spec_cols))
    name = header[col]
    if kind == "garbage":
        value = draw(GARBAGE)
    elif kind == "nan":
        value = draw(NAN_TEXT)
    else:
        value = str(draw(_huge(spec.columns[name], name in spec.limits)))
    fields = lines[row].split(",")
    fields[col] = value
    lines[row] = ",".join(fields)
    return "\n".join(lines) + "\n"


@SETTINGS
@given(event=events(), compress=st.booleans(), data=st.data())
def test_a_corrupted_file_is_rejected_or_read_unchanged(event: Event, compress: bool, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        prefix = write_event(event, tmp, compress=compress)
        path = data.draw(st.sampled_from(sorted(Path(tmp).glob(f"{prefix.name}-*"))))
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if compress else raw).decode()
        if compress and data.draw(st.booleans()):
            path.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1))])  # a cut gzip stream
        else:
            bad = data.draw(corrupted(text, _spec_of(path)))
            path.write_bytes(gzip.compress(bad.encode()) if compress else bad.encode())
        try:
            back = read_event(prefix)
        except DataError as err:  # the corrupted file, or another of the event's it no longer agrees with
            assert str(err).startswith(f"{path}: ") or str(err).startswith(f"{prefix}-"), str(err)
            assert "\n" not in str(err)
            return
        _assert_same(back, event)
