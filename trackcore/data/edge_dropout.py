"""Remove a fraction of the true edges of an input graph: the robustness test of HGNN's paper.

Liu et al. (2023) claim HGNN tolerates inefficient input graphs better than edge classification,
because its super-nodes gather hits that the graph no longer connects. :class:`DropTrueEdges`
makes a graph-construction stage's graphs inefficient on purpose: it removes ``fraction`` of the
true (same-particle) hit pairs of each event's ``edge_index``, both directions of a pair together,
and the matching entries of every other per-edge tensor (``edge_*``). The choice is seeded by
the event id, so an event loses the same edges in every epoch and in every family's run.
"""

from __future__ import annotations

import torch
from torch_geometric.data import Data


class DropTrueEdges:
    """A dataset transform removing ``fraction`` of each event's true input-graph edges.

    Args:
        fraction: share of the true hit pairs to remove, in [0, 1).
        seed: mixed with the event id to choose the pairs.

    Shapes:
        event.edge_index: (2, E) -> (2, E') and each ``edge_*`` tensor with E entries likewise.

    Raises:
        ValueError: a fraction outside [0, 1), or an event without ``edge_index`` / ``particle_id``.
    """

    def __init__(self, fraction: float, seed: int = 0) -> None:
        if not 0.0 <= fraction < 1.0:
            raise ValueError(f"the fraction of true edges to drop must be in [0, 1) (got {fraction})")
        self.fraction, self.seed = float(fraction), int(seed)

    def __call__(self, event: Data) -> Data:
        if self.fraction == 0.0:
            return event
        edge_index = getattr(event, "edge_index", None)
        if edge_index is None or getattr(event, "particle_id", None) is None:
            raise ValueError("dropping true edges needs a graph stage's events with 'edge_index' and 'particle_id'")
        keep = self.keep_mask(edge_index, event.particle_id, int(event.event_id) if "event_id" in event else 0)
        event = event.clone()
        event.update(select_edges(event, keep))
        return event

    def keep_mask(self, edge_index: torch.Tensor, particle_id: torch.Tensor, event_id: int) -> torch.Tensor:
        """Which edges survive: every false edge, and the true pairs not drawn.

        Shapes:
            edge_index: (2, E); particle_id: (N,) -> (E,) bool.
        """
        src, dst = edge_index.cpu()
        pid = particle_id.cpu()
        true = (pid[src] == pid[dst]) & (pid[src] != 0)
        n = int(pid.numel())
        lo, hi = torch.minimum(src, dst), torch.maximum(src, dst)
        pair_key, pair_of_edge = torch.unique(lo[true] * n + hi[true], return_inverse=True)
        generator = torch.Generator().manual_seed(1_000_003 * self.seed + event_id)
        n_drop = round(self.fraction * pair_key.numel())
        dropped = torch.zeros(pair_key.numel(), dtype=torch.bool)
        dropped[torch.randperm(pair_key.numel(), generator=generator)[:n_drop]] = True
        keep = torch.ones(src.numel(), dtype=torch.bool)
        keep[true.nonzero().squeeze(1)[dropped[pair_of_edge]]] = False
        return keep.to(edge_index.device)


def select_edges(event: Data, keep: torch.Tensor) -> dict[str, torch.Tensor]:
    """The event's ``edge_index`` and every per-edge ``edge_*`` tensor restricted to the edges of ``keep``
    (hit indices unchanged).

    Shapes:
        keep: (E,) bool over ``event.edge_index`` (2, E); returns edge_index (2, E') and each ``edge_*`` (E', ...).

    Raises:
        ValueError: a per-edge tensor whose length is not the graph's, named.
    """
    n_edges = event.edge_index.size(1)
    out = {}
    for key in list(event.keys()):
        value = event[key]
        if not key.startswith("edge_") or not isinstance(value, torch.Tensor):
            continue
        if value.dim() == 2 and value.size(0) == 2 and value.size(1) == n_edges and key == "edge_index":
            out[key] = value[:, keep]
        elif value.dim() >= 1 and value.size(0) == n_edges:
            out[key] = value[keep]
        else:
            raise ValueError(f"per-edge tensor {key!r} has shape {tuple(value.shape)}, not {n_edges} entries")
    return out
