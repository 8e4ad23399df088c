"""The soft-to-hard builder: HGNN's hit-to-super-node scores hardened into tracks (see builders.assignment)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from trackcore.builders.assignment import AssignmentMethod, AssignmentOptions, assign, module_key
from trackcore.builders.base import TrackBuilder
from trackcore.candidates import TrackCandidates


@dataclass(frozen=True)
class SoftAssignment(TrackBuilder):
    """Tracks from a weighted bipartite hit-to-candidate graph: the model outputs ``bipartite_hit``,
    ``bipartite_super`` (the edges) and ``bipartite_score`` (their weights).

    Args:
        method: ``"threshold"`` (HGNN's), ``"argmax"``, ``"topk"`` or ``"matching"`` (one hit per
            candidate and detector module; the event needs ``volume_id``, ``layer_id``, ``module_id``).
        threshold: score cut of ``"threshold"`` (kept when ``score >= threshold``).
        min_weight: smallest score ``"argmax"``, ``"topk"`` and ``"matching"`` accept.
        k: candidates per hit of ``"topk"``.
        min_hits: smaller candidates are not tracks.
    """

    method: AssignmentMethod = "threshold"
    threshold: float = 0.7
    min_weight: float = 0.5
    k: int = 2
    min_hits: int = 3
    reads: ClassVar[tuple[str, ...]] = ("bipartite_hit", "bipartite_super", "bipartite_score")

    def __post_init__(self) -> None:
        for name in ("threshold", "min_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a number in [0, 1] (got {value!r})")
        self.options  # noqa: B018 - checks the other settings

    @property
    def options(self) -> AssignmentOptions:
        """The settings as :func:`~trackcore.builders.assign` takes them."""
        return AssignmentOptions(method=self.method, threshold=self.threshold, min_weight=self.min_weight, k=self.k,
                                 min_hits=self.min_hits)

    def __call__(self, event: Any, outputs: Mapping[str, Any]) -> TrackCandidates:
        self.check_outputs(outputs)
        group = None
        if self.method == "matching":  # a track crosses a module once: one hit per (candidate, module)
            group = module_key(event.volume_id.long(), event.layer_id.long(), event.module_id.long()).cpu()
        return assign(outputs["bipartite_hit"].cpu(), outputs["bipartite_super"].cpu(),
                      outputs["bipartite_score"].detach().float().cpu(), int(event.num_nodes), options=self.options,
                      group_j=group, hit_id=event.hit_id)
