"""From an :class:`Event` to the processed ``torch_geometric`` event of the data contract.

:func:`process_event` applies the selections of a :class:`ProcessingConfig` through
:func:`trackcore.data.selection.select_hits`, then builds node features, per-hit truth,
the truth graph and the per-particle tables used by the metrics (DESIGN.md, "Data
contract"). What the selections removed is stored in the result (``data.selection``),
never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Data

from trackcore.data.errors import DataError
from trackcore.data.event import Event
from trackcore.data.features import feature_names, hit_features, particle_kinematics
from trackcore.data.selection import select_hits
from trackcore.data.truth_graph import event_track_edges

# Bumped whenever process_event changes what it writes, so that caches keyed by
# ProcessingConfig.key() are not reused across incompatible versions.
PROCESSING_VERSION = 1


@dataclass(frozen=True)
class ProcessingConfig:
    """What :func:`process_event` selects and computes; its :meth:`key` names a cache.

    Args:
        volumes: keep only hits of these TrackML volumes (e.g. ``(7, 8, 9)``, the
            pixel detector); None keeps all.
        min_pt: keep only hits of particles with pT above this (GeV); None keeps all.
            What happens to noise and unlabelled hits is :func:`select_hits`'s rule.
        remove_noise: drop noise hits (``particle_id == 0`` under full truth).
        labelled_only: drop hits without a truth label (partial truth).
        use_cells: append cell count and charge sum to ``x``; the event must have cells.
        use_eta: append the pseudorapidity of the hit position to ``x``.
        use_truth_positions: order the truth graph by the true hit positions
            (``tx, ty, tz``) when full truth has them, else by the measured ones.
    """

    volumes: tuple[int, ...] | None = None
    min_pt: float | None = None
    remove_noise: bool = False
    labelled_only: bool = False
    use_cells: bool = False
    use_eta: bool = True
    use_truth_positions: bool = True

    def __post_init__(self) -> None:
        # Normalise so that equal selections get equal keys: (9, 7, 8) == [7, 8, 9].
        if self.volumes is not None:
            vols = tuple(sorted({int(v) for v in self.volumes}))
            if not vols:
                raise ValueError("volumes must be None (all) or name at least one volume (got ())")
            object.__setattr__(self, "volumes", vols)
        if self.min_pt is not None:
            if not np.isfinite(self.min_pt) or self.min_pt < 0:
                raise ValueError(
                    f"min_pt must be a finite pT >= 0 in GeV or None (got {self.min_pt})"
                )
            object.__setattr__(self, "min_pt", float(self.min_pt))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able fields (``volumes`` as a list)."""
        d = asdict(self)
        if d["volumes"] is not None:
            d["volumes"] = list(d["volumes"])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProcessingConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error (a typo is not ignored)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown ProcessingConfig field(s) {unknown}; known: {sorted(known)}")
        vols = d.get("volumes")
        return cls(**{**d, "volumes": None if vols is None else tuple(vols)})

    def key(self) -> str:
        """Short stable hash of the fields and :data:`PROCESSING_VERSION` (12 hex digits)."""
        text = json.dumps({"version": PROCESSING_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the columns of ``data.x``."""
        return feature_names(use_eta=self.use_eta, use_cells=self.use_cells)


BENCHMARKS: dict[str, ProcessingConfig] = {
    # The "pT > 1 GeV pixel" setting of HGNN, EggNet and the Exa.TrkX quickstart, as
    # supported by the partial truth of the real events (shared/data/README.md).
    "pt1_pixel": ProcessingConfig(
        volumes=(7, 8, 9), min_pt=1.0, labelled_only=True, remove_noise=True
    ),
    # The same particles on the full detector (pixels and strips): for simulated or fully labelled
    # events (the real events' partial truth labels only part of the strip hits).
    "pt1_all": ProcessingConfig(min_pt=1.0, labelled_only=True, remove_noise=True),
    # Nothing removed with the truth: every pixel hit (noise, every pT, unlabelled hits of partial
    # truth) is the tracker's input; the truth only makes training targets and scores.
    "full_pixel": ProcessingConfig(volumes=(7, 8, 9)),
    # Every hit of every volume.
    "full": ProcessingConfig(),
}

FULL_EVENT_BENCHMARKS = ("full_pixel", "full")
"""The benchmarks whose input no truth selected (a comparison on them adds the geometric baseline)."""


def get_benchmark(name: str) -> ProcessingConfig:
    """The :class:`ProcessingConfig` of a named benchmark (see :data:`BENCHMARKS`)."""
    try:
        return BENCHMARKS[name]
    except KeyError:
        raise ValueError(f"unknown benchmark {name!r}; known: {sorted(BENCHMARKS)}") from None


class TrackEventData(Data):
    """A processed event: :class:`torch_geometric.data.Data` whose ``track_edges`` batch right.

    ``track_edges`` holds hit indices, so batching concatenates it along the last
    dimension and shifts it by the number of hits of the preceding events, exactly
    like ``edge_index``. Per-particle tables (``particle_table_*``) are concatenated.
    """

    def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "track_edges":
            return self.num_nodes
        return super().__inc__(key, value, *args, **kwargs)

    def __cat_dim__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "track_edges":
            return -1
        return super().__cat_dim__(key, value, *args, **kwargs)


def _tensor(values: Any, dtype: type) -> torch.Tensor:
    """A tensor owning (or sharing) a writable numpy array of ``dtype``."""
    a = np.asarray(values, dtype=dtype)
    return torch.from_numpy(a if a.flags.writeable else a.copy())


def count_particle_hits(particle_table_id: torch.Tensor, particle_id: Any) -> torch.Tensor:
    """Hits per particle of a (sorted) particle table, counted from per-hit particle ids (0 counts for none).

    Shapes:
        particle_table_id: (P,) ascending; particle_id: (N,); returns (P,) int64.
    """
    ids, counts = torch.unique(torch.as_tensor(particle_id), return_counts=True)
    keep = ids != 0
    nhits = torch.zeros(len(particle_table_id), dtype=torch.int64)
    nhits[torch.searchsorted(particle_table_id, ids[keep])] = counts[keep]
    return nhits


def process_event(event: Event, config: ProcessingConfig) -> TrackEventData:
    """Select hits, then build the processed event of the data contract.

    Per-hit ``pt`` and ``eta`` are those of the hit's particle: 0 for noise and
    unlabelled hits (so pT weights and cuts treat them as background without NaN
    arithmetic), NaN for hits of a particle whose kinematics are unknown (the negative
    ids of partial truth): compare with ``pt > cut`` (False for NaN), never do arithmetic
    on it unmasked.

    Args:
        event: the event as read or simulated.
        config: selections and features.

    Returns:
        A :class:`TrackEventData` with (``N`` hits after selection, ``P`` particles with
        at least one selected hit, ``E`` truth edges, ``F`` features):

    Shapes:
        x: (N, F) float32, columns ``config.feature_names``.
        pos: (N, 3) float32, ``x, y, z`` in mm.
        hit_id, particle_id, volume_id, layer_id, module_id: (N,) int64;
            ``particle_id`` is 0 for noise and for unlabelled hits.
        labelled: (N,) bool, True where the hit's particle (or noise status) is known.
        pt, eta: (N,) float32 of the hit's particle (see above).
        weight: (N,) float32 TrackML score weight, only with full truth.
        track_edges: (2, E) int64 hit indices, outward (:mod:`trackcore.data.truth_graph`).
        particle_table_id: (P,) int64, ascending.
        particle_table_pt, particle_table_eta: (P,) float32, NaN when unknown.
        particle_table_vertex: (P, 3) float32 production vertex (mm), NaN when unknown.
        particle_table_nhits: (P,) int64 hits of the particle *after* selection.
        event_id: int; truth_kind, source: str; selection, processing: plain dicts.

    Raises:
        DataError: ``config.use_cells`` but the event has no cells table.
    """
    if config.use_cells and event.cells is None:
        raise DataError(
            event.source or event.name, "use_cells=True but the event has no cells table"
        )
    selected, report = select_hits(
        event,
        volumes=config.volumes,
        min_pt=config.min_pt,
        remove_noise=config.remove_noise,
        labelled_only=config.labelled_only,
    )
    hits = selected.hits
    n_hits = len(hits)
    cells = selected.cells if config.use_cells else None
    x = hit_features(hits, cells=cells, use_eta=config.use_eta, source=event.source or event.name)

    pid_j = selected.hit_particle_id()
    labelled_j = selected.labelled_mask()

    # np.unique sorts, so particle tables are in ascending id order and `inverse` maps
    # every hit to its particle row (noise and unknown, id 0, are dropped afterwards).
    ids, inverse, counts = np.unique(pid_j, return_inverse=True, return_counts=True)
    pt_p, eta_p, vertex_p = particle_kinematics(selected.particles, ids)
    pt_j = np.where(pid_j != 0, pt_p[inverse], 0.0)
    eta_j = np.where(pid_j != 0, eta_p[inverse], 0.0)
    keep = ids != 0
    ids, counts = ids[keep], counts[keep]
    pt_p, eta_p, vertex_p = pt_p[keep], eta_p[keep], vertex_p[keep]

    edges = event_track_edges(selected, use_truth_positions=config.use_truth_positions)

    selection = dict(report.to_dict())
    unrecovered = ids < 0
    selection["kept"] = {
        "hits": int(n_hits),
        "particles": int(len(ids)),
        "track_edges": int(edges.shape[1]),
        # Partial-truth hits of a particle whose id was not recovered: each negative id
        # is kept as its own particle with unknown (NaN) kinematics.
        "unrecovered_id_particles": int(unrecovered.sum()),
        "unrecovered_id_hits": int(counts[unrecovered].sum()),
        "particles_unknown_pt": int(np.isnan(pt_p).sum()),
    }

    data = TrackEventData(
        x=_tensor(x, np.float32),
        pos=_tensor(hits[["x", "y", "z"]], np.float32),
        hit_id=_tensor(hits["hit_id"], np.int64),
        particle_id=_tensor(pid_j, np.int64),
        labelled=_tensor(labelled_j, np.bool_),
        pt=_tensor(pt_j, np.float32),
        eta=_tensor(eta_j, np.float32),
        volume_id=_tensor(hits["volume_id"], np.int64),
        layer_id=_tensor(hits["layer_id"], np.int64),
        module_id=_tensor(hits["module_id"], np.int64),
        track_edges=_tensor(edges, np.int64),
        particle_table_id=_tensor(ids, np.int64),
        particle_table_pt=_tensor(pt_p, np.float32),
        particle_table_eta=_tensor(eta_p, np.float32),
        particle_table_vertex=_tensor(vertex_p, np.float32),
        particle_table_nhits=_tensor(counts, np.int64),
        event_id=int(selected.event_id),
        truth_kind=selected.truth_kind,
        source=str(selected.source),
        selection=selection,
        processing={"version": PROCESSING_VERSION, "key": config.key(), **config.to_dict()},
    )
    data.num_nodes = n_hits
    truth = selected.truth
    if selected.truth_kind == "full" and truth is not None and "weight" in truth.columns:
        w = truth.set_index("hit_id")["weight"].reindex(hits["hit_id"].to_numpy()).fillna(0.0)
        data.weight = _tensor(w, np.float32)
    return data
