"""Checks of TrackML tables and events: every problem raises :class:`DataError` naming the file.

Two levels:
- :func:`check_table` checks one table as read from one file: no repeated column, required
  columns (with a "did you mean" for misspelt names), numeric dtypes, integer columns as
  exact int64 (no fraction, no wrap-around beyond int64, no id rounded by a float), NaN/inf,
  coordinate and momentum ranges, unique keys, no particle with the noise id 0.
  :func:`check_hit_layers` checks hits against a detector description.
- :func:`validate_event` checks the relations between the tables of one event: no empty
  event, truth and cells refer only to known hits, truth refers only to known particles,
  full truth covers every hit.
"""

from __future__ import annotations

import difflib
import math
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.schema import COORDINATE_LIMIT_MM, TableSpec

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FLOAT_EXACT_INT = 2**53
"""Beyond 2**53 a float64 no longer holds every integer: an id written as a float there is lost."""
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_NONFINITE_TEXT = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}

# Problems an integer cell can have, in the order of their messages below.
_NON_NUMERIC, _MISSING, _FRACTIONAL, _FLOAT_BEYOND, _INT64_RANGE = range(5)


def _examples(values: np.ndarray, n: int = 3, quote: bool = True) -> str:
    def show(v: object) -> str:
        v = v.item() if hasattr(v, "item") else v
        return repr(v) if quote else str(v).strip()

    shown = ", ".join(show(v) for v in values[:n])
    return shown + (", ..." if len(values) > n else "")


def _rows(mask: np.ndarray, n: int = 3) -> str:
    """File line numbers (header is line 1) of the first offending rows."""
    idx = np.flatnonzero(mask)[:n] + 2
    return ", ".join(str(i) for i in idx) + (", ..." if mask.sum() > n else "")


def _int_of(value: object) -> int | tuple[int]:
    """The exact integer a cell holds, or ``(problem,)``.

    Text is parsed exactly: ``123`` as written, a float-written ``12.0`` or ``1e3`` only when
    it is an integer no larger than 2**53 (beyond, the writer's float already lost digits).
    """
    if isinstance(value, (bool, np.bool_)):
        return (_NON_NUMERIC,)
    if isinstance(value, (int, np.integer)):
        x = int(value)
    elif isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return (_MISSING,)
        if value != math.floor(value):
            return (_FRACTIONAL,)
        if abs(value) > FLOAT_EXACT_INT:
            return (_FLOAT_BEYOND,)
        x = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or text.lower() in _NONFINITE_TEXT:
            return (_MISSING,)
        if _INT_TEXT.fullmatch(text):
            x = int(text)
        elif _FLOAT_TEXT.fullmatch(text):
            d = Decimal(text)
            if abs(d) > FLOAT_EXACT_INT:
                return (_FLOAT_BEYOND,)
            if d != d.to_integral_value():
                return (_FRACTIONAL,)
            x = int(d)
        else:
            return (_NON_NUMERIC,)
    elif value is None or value is pd.NA:
        return (_MISSING,)
    else:
        return (_NON_NUMERIC,)
    return x if INT64_MIN <= x <= INT64_MAX else (_INT64_RANGE,)


def _int_problem(col: str, problem: int, values: np.ndarray, bad: np.ndarray) -> str:
    n, where = int(bad.sum()), f"(lines {_rows(bad)})"
    shown = values[bad]
    if problem == _NON_NUMERIC:
        return f"column '{col}' must be numeric but has non-numeric values {_examples(shown)} {where}"
    if problem == _MISSING:
        return f"column '{col}' has {n} missing (empty or NaN) integer value(s) {where}"
    if problem == _FRACTIONAL:
        return (f"column '{col}' must hold integers but has fractional values "
                f"{_examples(shown, quote=False)} {where}")
    if problem == _FLOAT_BEYOND:
        return (f"column '{col}' has {n} integer(s) written as floats beyond 2**53, where a float "
                f"cannot hold every integer, so the exact value is unknown: "
                f"{_examples(shown, quote=False)} {where}; write integers without a decimal point or exponent")
    return (f"column '{col}' has {n} value(s) beyond the int64 range [-2**63, 2**63 - 1]: "
            f"{_examples(shown, quote=False)} {where}")


def _parse_each_distinct(arr: np.ndarray, parse: Any) -> tuple[np.ndarray, np.ndarray, list]:
    """Parse each distinct cell once: the cells as objects, each cell's index into the parsed
    distinct values, and those values (a column repeats few distinct values: ids of a volume).

    Shapes:
        arr: (N,) -> (N,) object, (N,) int64, list of length D.
    """
    obj = arr.astype(object)
    inverse, uniques = pd.factorize(pd.Series(obj, dtype=object), use_na_sentinel=False)
    return obj, inverse, [parse(v) for v in uniques]


def int64_column(values: pd.Series | np.ndarray, col: str, path: str) -> np.ndarray:
    """An integer column as exact int64, or a :class:`DataError` naming column and lines.

    Accepts int64 and smaller integers; uint64 up to 2**63 - 1; floats that are integers
    no larger than 2**53; text (as read with ``dtype=str``) parsed exactly. Nothing wraps
    around or is rounded.

    Shapes:
        values: (N,); return: (N,) int64.
    """
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
    if arr.dtype.kind == "i":
        return arr.astype(np.int64)
    if arr.dtype.kind == "u" and (not len(arr) or arr.max() <= INT64_MAX):
        return arr.astype(np.int64)
    if arr.dtype.kind == "f" and len(arr) and np.isfinite(arr).all() and (arr == np.floor(arr)).all() \
            and np.abs(arr).max() <= FLOAT_EXACT_INT:
        return arr.astype(np.int64)
    if not len(arr):
        return np.zeros(0, dtype=np.int64)
    obj, inverse, parsed = _parse_each_distinct(arr, _int_of)
    ok = np.array([not isinstance(v, tuple) for v in parsed])
    if ok.all():
        return np.array(parsed, dtype=np.int64)[inverse]
    code = np.array([-1 if good else v[0] for v, good in zip(parsed, ok, strict=True)])[inverse]
    first = code[np.flatnonzero(code >= 0)[0]]
    raise DataError(path, _int_problem(col, int(first), obj, code == first))


def _float_of(value: object) -> float | None:
    """A float cell's value (NaN for empty/NaN text, inf beyond float64), None if not a number."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer, float, np.floating)):
        try:
            return float(value)
        except OverflowError:
            return math.inf
    if isinstance(value, str):
        text = value.strip()
        if not text or text.lower() in _NONFINITE_TEXT:
            return float(text) if text else math.nan
        if _INT_TEXT.fullmatch(text) or _FLOAT_TEXT.fullmatch(text):
            try:
                return float(text)
            except OverflowError:
                return math.inf
        return None
    return math.nan if value is None or value is pd.NA else None


def float64_column(values: pd.Series | np.ndarray, col: str, path: str) -> np.ndarray:
    """A float column as float64, or a :class:`DataError` naming column and lines.

    Shapes:
        values: (N,); return: (N,) float64 (may hold NaN/inf: the caller checks).
    """
    arr = np.asarray(values.to_numpy() if isinstance(values, pd.Series) else values)
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64)
    if not len(arr):
        return np.zeros(0, dtype=np.float64)
    obj, inverse, parsed = _parse_each_distinct(arr, _float_of)
    bad = np.array([v is None for v in parsed])[inverse]
    if bad.any():
        raise DataError(path, f"column '{col}' must be numeric but has non-numeric values "
                              f"{_examples(obj[bad])} (lines {_rows(bad)})")
    return np.array(parsed, dtype=np.float64)[inverse]


def check_table(df: pd.DataFrame, spec: TableSpec, path: str) -> pd.DataFrame:
    """Check one table against its spec and return it with canonical dtypes.

    Integer columns become exact int64 (:func:`int64_column`), float columns float64; extra
    columns are kept as read.

    Args:
        df: the table as read (integer columns as int64 or as their text).
        spec: its column specification.
        path: the file it came from (used in every error message).

    Raises:
        DataError: repeated or missing/misspelt column, non-numeric, fractional or
            inexact values in an integer column, NaN or inf, values beyond the range of
            :attr:`TableSpec.limits`, 0 in a :attr:`TableSpec.nonzero` column, duplicate keys.
    """
    names = [str(c) for c in df.columns]
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise DataError(path, f"column(s) {repeated} appear more than once in the header")
    missing = [c for c in spec.required if c not in df.columns]
    if missing:
        hints = []
        for c in missing:
            close = difflib.get_close_matches(c, names, n=1, cutoff=0.6)
            hints.append(f"'{c}'" + (f" (found '{close[0]}': misspelt?)" if close else ""))
        raise DataError(
            path,
            f"missing required column(s) {', '.join(hints)} of the TrackML {spec.name} table; "
            f"columns found: {names}",
        )
    out = {}
    for col in df.columns:
        kind = spec.columns.get(col)
        if kind is None:
            out[col] = df[col]
            continue
        if kind == "i":
            out[col] = int64_column(df[col], col, path)
            continue
        arr = float64_column(df[col], col, path)
        nonfinite = ~np.isfinite(arr)
        if nonfinite.any():
            what = "NaN" if np.isnan(arr[nonfinite]).all() else "NaN/inf"
            raise DataError(
                path,
                f"column '{col}' has {int(nonfinite.sum())} {what} value(s) "
                f"(lines {_rows(nonfinite)})",
            )
        limit = spec.limits.get(col)
        if limit is not None:
            beyond = np.abs(arr) > limit
            if beyond.any():
                unit = "mm" if limit == COORDINATE_LIMIT_MM else "GeV"
                raise DataError(
                    path,
                    f"column '{col}' has {int(beyond.sum())} value(s) beyond +-{limit:g} {unit}, "
                    f"larger than any detector could measure: {_examples(arr[beyond])} "
                    f"(lines {_rows(beyond)})",
                )
        out[col] = arr
    result = pd.DataFrame(out, index=pd.RangeIndex(len(df)))
    for key in spec.nonzero:
        zero = result[key].to_numpy() == 0
        if zero.any():
            raise DataError(
                path,
                f"{key} 0 in {int(zero.sum())} row(s) (lines {_rows(zero)}): 0 means noise, "
                f"never a row of the {spec.name} table",
            )
    for key in spec.unique:
        dup = result[key].duplicated(keep=False).to_numpy()
        if dup.any():
            raise DataError(
                path,
                f"duplicate {key} values {_examples(np.unique(result[key].to_numpy()[dup]))} "
                f"({int(result[key].duplicated().sum())} repeated rows, lines {_rows(dup)})",
            )
    return result


def check_hit_layers(hits: pd.DataFrame, detectors: pd.DataFrame | np.ndarray, *,
                     hits_path: str, detectors_path: str) -> None:
    """Every hit lies on a volume and layer that the detector description has.

    Args:
        hits: TrackML hits table (``volume_id, layer_id``).
        detectors: a ``detectors.csv`` table, or its ``(volume_id, layer_id)`` pairs.
        hits_path: the hits file (named in the error).
        detectors_path: the detector description (named in the error).

    Shapes:
        detectors as pairs: (N_layers, 2) int64.

    Raises:
        DataError: hits in volumes, or (volume, layer) pairs, absent from the detector.
    """
    pairs = (detectors[["volume_id", "layer_id"]].to_numpy(np.int64)
             if isinstance(detectors, pd.DataFrame) else np.asarray(detectors, np.int64))
    volume_j = hits["volume_id"].to_numpy(np.int64)
    known_volumes = np.unique(pairs[:, 0])
    bad = ~np.isin(volume_j, known_volumes)
    if bad.any():
        raise DataError(
            hits_path,
            f"{int(bad.sum())} hit(s) in volume_id(s) {np.unique(volume_j[bad]).tolist()} that "
            f"the detector {detectors_path} does not have (its volumes: {known_volumes.tolist()}; "
            f"lines {_rows(bad)})",
        )
    layer_j = hits["layer_id"].to_numpy(np.int64)
    shift = np.int64(1) << np.int64(32)
    known_layers = np.unique(pairs[:, 0] * shift + pairs[:, 1])
    bad = ~np.isin(volume_j * shift + layer_j, known_layers)
    if bad.any():
        shown = sorted({(int(v), int(lay)) for v, lay in zip(volume_j[bad], layer_j[bad], strict=True)})
        raise DataError(
            hits_path,
            f"{int(bad.sum())} hit(s) on (volume_id, layer_id) {shown[:5]} that the detector "
            f"{detectors_path} does not have (lines {_rows(bad)})",
        )


def _table_file(prefix: str, name: str) -> str:
    """The file of table ``name`` of the event ``prefix`` when it exists, else ``<prefix>-<name>``."""
    for suffix in (".csv", ".csv.gz"):
        if Path(f"{prefix}-{name}{suffix}").is_file():
            return f"{prefix}-{name}{suffix}"
    return f"{prefix}-{name}"


def validate_event(event: Event, path: str | None = None) -> None:
    """Check the relations between the tables of one event.

    Args:
        event: the event.
        path: name used in messages (defaults to ``event.source`` or the event prefix).

    Raises:
        DataError: empty event; truth or cells referring to unknown hits; truth referring
            to particles absent from the particles table; full truth missing hits.
    """
    where = path or event.source or event.name
    hits = event.hits
    if len(hits) == 0:
        raise DataError(_table_file(where, "hits"), "event has no hits (empty event)")
    hit_ids = hits["hit_id"].to_numpy()
    if event.truth is not None:
        tw = _table_file(where, "truth-partial" if event.truth_kind == "partial" else "truth")
        t_hits = event.truth["hit_id"].to_numpy()
        unknown = ~np.isin(t_hits, hit_ids)
        if unknown.any():
            raise DataError(
                tw,
                f"{int(unknown.sum())} truth row(s) refer to hit_id(s) not in the hits table: "
                f"{_examples(t_hits[unknown])} (lines {_rows(unknown)})",
            )
        if event.truth_kind == "full":
            uncovered = ~np.isin(hit_ids, t_hits)
            if uncovered.any():
                raise DataError(
                    tw,
                    f"{int(uncovered.sum())} hit(s) have no truth row (full truth must label "
                    f"every hit; noise has particle_id 0): hit_id {_examples(hit_ids[uncovered])}",
                )
        if event.particles is not None:
            pids = event.truth["particle_id"].to_numpy()
            # Noise is 0; negative ids in partial truth are particles whose id was not recovered.
            check = pids > 0 if event.truth_kind == "partial" else pids != 0
            unknown_p = check & ~np.isin(pids, event.particles["particle_id"].to_numpy())
            if unknown_p.any():
                raise DataError(
                    tw,
                    f"{int(unknown_p.sum())} truth row(s) refer to particle_id(s) not in the "
                    f"particles table: {_examples(np.unique(pids[unknown_p]))} "
                    f"(lines {_rows(unknown_p)})",
                )
    if event.cells is not None:
        c_hits = event.cells["hit_id"].to_numpy()
        unknown = ~np.isin(c_hits, hit_ids)
        if unknown.any():
            raise DataError(
                _table_file(where, "cells"),
                f"{int(unknown.sum())} cell row(s) refer to hit_id(s) not in the hits table: "
                f"{_examples(np.unique(c_hits[unknown]))} (lines {_rows(unknown)})",
            )
