"""Checks of TrackML tables and events: every problem raises :class:`DataError` naming the file.

Two levels:
- :func:`check_table` checks one table as read from one file: required columns (with a
  "did you mean" for misspelt names), numeric dtypes, integer columns without fractions,
  NaN/inf, and unique keys.
- :func:`validate_event` checks the relations between the tables of one event: no empty
  event, truth and cells refer only to known hits, truth refers only to known particles,
  full truth covers every hit.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.schema import TableSpec


def _examples(values: np.ndarray, n: int = 3) -> str:
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:n])
    return shown + (", ..." if len(values) > n else "")


def _rows(mask: np.ndarray, n: int = 3) -> str:
    """File line numbers (header is line 1) of the first offending rows."""
    idx = np.flatnonzero(mask)[:n] + 2
    return ", ".join(str(i) for i in idx) + (", ..." if mask.sum() > n else "")


def check_table(df: pd.DataFrame, spec: TableSpec, path: str) -> pd.DataFrame:
    """Check one table against its spec and return it with canonical dtypes.

    Integer columns become int64, float columns float64; extra columns are kept as read.

    Args:
        df: the table as read.
        spec: its column specification.
        path: the file it came from (used in every error message).

    Raises:
        DataError: missing/misspelt column, non-numeric or fractional values in an
            integer column, NaN or inf, duplicate keys.
    """
    missing = [c for c in spec.required if c not in df.columns]
    if missing:
        hints = []
        for c in missing:
            close = difflib.get_close_matches(c, [str(x) for x in df.columns], n=1, cutoff=0.6)
            hints.append(f"'{c}'" + (f" (found '{close[0]}': misspelt?)" if close else ""))
        raise DataError(
            path,
            f"missing required column(s) {', '.join(hints)} of the TrackML {spec.name} table; "
            f"columns found: {list(map(str, df.columns))}",
        )
    out = {}
    for col in df.columns:
        kind = spec.columns.get(col)
        values = df[col]
        if kind is None:
            out[col] = values
            continue
        # A header-only file reads as object columns: an empty column is no dtype problem.
        if len(values) and (not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
            as_num = pd.to_numeric(values, errors="coerce")
            bad = (as_num.isna() & values.notna()).to_numpy()
            raise DataError(
                path,
                f"column '{col}' must be numeric but has non-numeric values "
                f"{_examples(values[bad].to_numpy())} (lines {_rows(bad)})",
            )
        arr = values.to_numpy() if len(values) else values.to_numpy(np.float64)
        if arr.dtype.kind == "f":
            nonfinite = ~np.isfinite(arr)
            if nonfinite.any():
                what = "NaN" if np.isnan(arr[nonfinite]).all() else "NaN/inf"
                raise DataError(
                    path,
                    f"column '{col}' has {int(nonfinite.sum())} {what} value(s) "
                    f"(lines {_rows(nonfinite)})",
                )
        if kind == "i":
            if arr.dtype.kind == "f":
                frac = arr != np.round(arr)
                if frac.any():
                    raise DataError(
                        path,
                        f"column '{col}' must hold integers but has fractional values "
                        f"{_examples(arr[frac])} (lines {_rows(frac)})",
                    )
            arr = arr.astype(np.int64)
        else:
            arr = arr.astype(np.float64)
        out[col] = arr
    result = pd.DataFrame(out, index=pd.RangeIndex(len(df)))
    for key in spec.unique:
        dup = result[key].duplicated(keep=False).to_numpy()
        if dup.any():
            raise DataError(
                path,
                f"duplicate {key} values {_examples(np.unique(result[key].to_numpy()[dup]))} "
                f"({int(result[key].duplicated().sum())} repeated rows, lines {_rows(dup)})",
            )
    return result


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
        raise DataError(f"{where}-hits", "event has no hits (empty event)")
    hit_ids = hits["hit_id"].to_numpy()
    if event.truth is not None:
        tw = f"{where}-truth" + ("-partial" if event.truth_kind == "partial" else "")
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
                f"{where}-cells",
                f"{int(unknown.sum())} cell row(s) refer to hit_id(s) not in the hits table: "
                f"{_examples(np.unique(c_hits[unknown]))} (lines {_rows(unknown)})",
            )
