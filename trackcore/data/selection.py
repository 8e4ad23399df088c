"""Explicit hit selections (volumes, particle pT, noise, labelled hits) that report what they removed.

A selection never changes a table silently: it returns the selected event together with a
:class:`SelectionReport` counting the hits each criterion removed, and appends that report
to ``event.meta["selections"]`` so it travels with the event into processed files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.schema import PIXEL_VOLUMES

# Partial-truth flags that mark a hit as coming from a pT > 1 GeV selection.
_PT1_FLAGS = ("in_plus1", "in_qtrkx_barrel1")


@dataclass
class SelectionReport:
    """What one call of :func:`select_hits` did.

    Attributes:
        params: the selection parameters as given.
        n_hits_before / n_hits_after: hits before and after.
        removed: criterion -> hits it removed, in the order applied (a hit counts once,
            for the first criterion that removed it).
        unknown_pt_kept: partial truth only: hits of particles with unrecovered ids (no pT
            known) kept because their truth flags mark a pT > 1 GeV selection.
    """

    params: dict
    n_hits_before: int
    n_hits_after: int
    removed: dict[str, int] = field(default_factory=dict)
    unknown_pt_kept: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        parts = ", ".join(f"{k}: -{v}" for k, v in self.removed.items()) or "nothing removed"
        return f"{self.n_hits_before} -> {self.n_hits_after} hits ({parts})"


def select_hits(
    event: Event,
    *,
    volumes: Sequence[int] | None = None,
    min_pt: float | None = None,
    remove_noise: bool = False,
    labelled_only: bool = False,
) -> tuple[Event, SelectionReport]:
    """Keep the hits that pass every given criterion.

    Args:
        event: input event (not modified).
        volumes: keep hits in these volume ids (None: all).
        min_pt: keep noise and hits of particles with pT >= min_pt GeV (needs truth and
            particles). With partial truth, hits of particles whose id was not recovered
            (negative ids) are kept only when ``min_pt <= 1`` and their flags say they come
            from a pT > 1 GeV selection.
        remove_noise: drop hits with ``particle_id == 0``. With partial truth only together
            with ``labelled_only`` (an unlabelled hit is unknown, not noise).
        labelled_only: keep only hits with a truth label (partial truth).

    Returns:
        the selected event (truth and cells restricted to the kept hits; particles kept
        whole, so ``nhits`` still describes the full event) and its report.

    Raises:
        DataError: a criterion needs truth or particles the event lacks.
    """
    params = {"volumes": None if volumes is None else [int(v) for v in volumes],
              "min_pt": min_pt, "remove_noise": remove_noise, "labelled_only": labelled_only}
    where = event.source or event.name
    keep = np.ones(event.n_hits, dtype=bool)
    removed: dict[str, int] = {}

    def apply(name: str, mask: np.ndarray) -> None:
        removed[name] = int((keep & ~mask).sum())
        keep[:] &= mask

    if volumes is not None:
        apply("volumes", event.hits["volume_id"].isin(list(volumes)).to_numpy())
    needs_truth = labelled_only or remove_noise or min_pt is not None
    if needs_truth and event.truth is None:
        raise DataError(where, f"selection {params} needs truth, but the event has none")
    if labelled_only:
        apply("unlabelled", event.labelled_mask())
    if remove_noise:
        if event.truth_kind != "full" and not labelled_only:
            raise DataError(
                where,
                "remove_noise with partial truth needs labelled_only=True: an unlabelled hit "
                "is unknown, not noise",
            )
        apply("noise", event.hit_particle_id() != 0)
    unknown_kept = 0
    if min_pt is not None:
        if event.particles is None:
            raise DataError(where, "min_pt selection needs the particles table")
        pid = event.hit_particle_id()
        pt = event.particle_pt().reindex(pid).to_numpy()
        passes = (pid == 0) | (pt >= min_pt)
        if event.truth_kind == "partial":
            passes &= event.labelled_mask() | (pid == 0)
            unknown = pid < 0
            if unknown.any() and min_pt <= 1.0:
                flags = event.truth.set_index("hit_id")
                present = [f for f in _PT1_FLAGS if f in flags.columns]
                hid = event.hits["hit_id"].to_numpy()[unknown]
                is_pt1 = flags.loc[hid, present].to_numpy().any(axis=1) if present else np.zeros(len(hid), bool)
                passes[np.flatnonzero(unknown)[is_pt1]] = True
                unknown_kept = int((keep[unknown] & is_pt1).sum())
        apply("pt", passes)

    report = SelectionReport(params, event.n_hits, int(keep.sum()), removed, unknown_kept)
    hits = event.hits[keep].reset_index(drop=True)
    kept_ids = hits["hit_id"]

    def restrict(table: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if table is None else table[table["hit_id"].isin(kept_ids)].reset_index(drop=True)

    out = Event(
        event_id=event.event_id, hits=hits, particles=event.particles,
        truth=restrict(event.truth), cells=restrict(event.cells),
        truth_kind=event.truth_kind, source=event.source,
        meta={**event.meta, "selections": [*event.meta.get("selections", []), report.to_dict()]},
    )
    return out, report


def pt1_pixel_benchmark(event: Event) -> tuple[Event, SelectionReport]:
    """The "pT > 1 GeV pixel" benchmark of the GNN tracking literature.

    Labelled hits of the pixel volumes 7/8/9 whose particle has pT > 1 GeV: on the real
    partial-truth events this is a real event with noise and low-pT hits removed.
    """
    return select_hits(event, volumes=PIXEL_VOLUMES, min_pt=1.0, remove_noise=True,
                       labelled_only=event.truth_kind == "partial")
