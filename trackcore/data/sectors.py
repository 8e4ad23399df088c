"""Train on azimuthal sectors of whole events: full hit density at a fraction of the cost.

A TrackML-density event (~50-60k pixel hits) costs a 2-core CPU ~9x a `small` one per training
step, and models trained at the lower density do not carry over (their learned spaces' scales
follow the hit density; README, "Full events"). :class:`PhiSectors` cuts each *training* event to
one azimuthal sector, widened by ``overlap`` on each side so that the tracks crossing the sector's
edges are seen whole somewhere: the local density is the real one, the event is ``1/n_sectors`` of
the size. Validation and test events stay whole (the datamodules apply it to the train split only).

Every per-hit tensor is cut to the sector's hits; every graph (``edge_index`` with its per-edge
``edge_*`` tensors, ``track_edges``) keeps the edges with both hits inside, renumbered; the
particle tables keep every particle, with ``particle_table_nhits`` counting the hits left;
track candidates (``track_hit_id``/``track_id``) keep the rows of the hits left.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from trackcore.data.edge_dropout import select_edges
from trackcore.data.processing import count_particle_hits


@dataclass
class PhiSectors:
    """A training transform: each call returns one sector of the event, the sector drawn at random.

    Args:
        n_sectors: sectors the azimuth is cut into (the event is ~1/n_sectors of its size).
        overlap: extra azimuth (rad) on each side of a sector.
        seed: of the draws; successive calls draw successive sectors, so a run is reproducible.

    Shapes:
        per-hit tensors (N, ...) -> (N', ...); edge_index (2, E) -> (2, E') with its ``edge_*`` (E, ...);
        track_edges (2, T) -> (2, T'); particle tables unchanged but ``particle_table_nhits``.

    Raises:
        ValueError: n_sectors < 1, or an overlap outside [0, pi).
    """

    n_sectors: int = 8
    overlap: float = 0.1
    seed: int = 0
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.n_sectors, int) or self.n_sectors < 1:
            raise ValueError(f"n_sectors must be an integer >= 1 (got {self.n_sectors!r})")
        if not 0.0 <= self.overlap < math.pi:
            raise ValueError(f"overlap must be an azimuth in [0, pi) rad (got {self.overlap!r})")
        self._rng = np.random.default_rng(self.seed)

    def hits_in(self, pos: torch.Tensor, sector: int) -> torch.Tensor:
        """Which hits lie in ``sector`` (0-based) widened by the overlap.

        Shapes:
            pos: (N, 3); return: (N,) bool.
        """
        width = 2 * math.pi / self.n_sectors
        center = -math.pi + (sector + 0.5) * width
        phi = torch.atan2(pos[:, 1], pos[:, 0])
        distance = torch.remainder(phi - center + math.pi, 2 * math.pi) - math.pi
        return distance.abs() <= width / 2 + self.overlap

    def __call__(self, event: Any) -> Any:
        if self.n_sectors == 1:
            return event
        sector = int(self._rng.integers(self.n_sectors))
        return crop_event(event, self.hits_in(event.pos, sector))


def crop_event(event: Any, keep: torch.Tensor) -> Any:
    """``event`` with only the hits of ``keep``: per-hit tensors cut, graphs cut and renumbered.

    Shapes:
        keep: (N,) bool over the event's hits.

    Raises:
        ValueError: a per-edge ``edge_*`` tensor whose length is not the graph's.
    """
    n = int(event.num_nodes)
    if keep.shape != (n,):
        raise ValueError(f"keep must be ({n},) over the hits (got {tuple(keep.shape)})")
    new_index = torch.full((n,), -1, dtype=torch.long)
    new_index[keep] = torch.arange(int(keep.sum()))
    out = event.clone()
    graph = {}
    if getattr(event, "edge_index", None) is not None:
        graph = select_edges(event, keep[event.edge_index[0]] & keep[event.edge_index[1]])
        graph["edge_index"] = new_index[graph["edge_index"]]
    for key in list(event.keys()):
        value = event[key]
        if key in ("track_edges", "track_hit_id", "track_id") or key.startswith(("edge_", "particle_table_")):
            continue
        if isinstance(value, torch.Tensor) and value.dim() >= 1 and value.size(0) == n:
            out[key] = value[keep]
    out.update(graph)
    if getattr(event, "track_edges", None) is not None:
        t = event.track_edges
        inside = keep[t[0]] & keep[t[1]]
        out.track_edges = new_index[t[:, inside]]
    if getattr(event, "track_hit_id", None) is not None and getattr(event, "track_id", None) is not None:
        rows = torch.isin(event.track_hit_id, out.hit_id)  # candidates: the rows of kept hits
        out.track_hit_id, out.track_id = event.track_hit_id[rows], event.track_id[rows]
    if getattr(event, "particle_table_id", None) is not None and getattr(event, "particle_id", None) is not None:
        out.particle_table_nhits = count_particle_hits(event.particle_table_id, out.particle_id)
    out.num_nodes = int(keep.sum())
    return out
