"""The builder interface: one call ``(event, model outputs) -> TrackCandidates``, and its settings grid.

A builder is a small frozen dataclass whose fields are its settings (DBSCAN's ``eps``, the
assignment's ``threshold`` ...). A task module takes one by ``class_path``::

    builder:
      class_path: trackcore.builders.DBSCANBuilder
      init_args: {eps: 0.3, min_samples: 1}
    scan: {eps: [0.1, 0.2, 0.3], min_samples: [1]}   # optional: chosen on the validation events

and :func:`trackcore.builders.scan.scan_builder` tries a grid of settings
(:func:`grid_points`) on it, the same way for the validation epochs, ``trackcore scan`` and the
soft-to-hard study.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from trackcore.candidates import TrackCandidates

Grid = Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]]
"""Settings to try: a mapping ``{setting: values}`` (every combination), or a list of such mappings
(their combinations one after the other, e.g. thresholds, then argmax)."""


class TrackBuilder:
    """Base of every builder: a frozen dataclass of settings, called on one event's model outputs.

    Subclasses are dataclasses (``@dataclass(frozen=True)``), implement :meth:`__call__` and name
    the outputs they read in ``reads``.
    """

    reads: ClassVar[tuple[str, ...]] = ()
    """The keys of the model outputs (:meth:`~trackcore.train.TrackingModule.infer`) the builder reads."""

    def __call__(self, event: Any, outputs: Mapping[str, Any]) -> TrackCandidates:
        """The event's track candidates (``event``: its PyG Data, hit ids and geometry; ``outputs``:
        the model's per-event outputs)."""
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def settings(self) -> dict[str, Any]:
        """The builder's settings, by name (what a scan varies and a checkpoint keeps)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def record(self) -> dict[str, Any]:
        """The builder as a checkpoint and a stage folder keep it: ``{"class_path", "settings"}``."""
        kind = type(self)
        return {"class_path": f"{kind.__module__}.{kind.__name__}", "settings": self.settings()}

    def with_settings(self, **changes: Any) -> TrackBuilder:
        """A copy with ``changes`` applied (checked as at construction).

        Raises:
            ValueError: a setting the builder does not have.
        """
        unknown = sorted(set(changes) - set(self.settings()))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no settings {unknown} (it has {sorted(self.settings())})")
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def check_outputs(self, outputs: Mapping[str, Any]) -> None:
        """Raise a ValueError naming the outputs this builder reads that ``outputs`` lacks."""
        missing = [key for key in self.reads if outputs.get(key) is None]
        if missing:
            raise ValueError(f"{type(self).__name__} reads the model outputs {missing}; this model gives "
                             f"{sorted(k for k, v in outputs.items() if v is not None)}")

    def build_grid(
        self, event: Any, outputs: Mapping[str, Any], points: Sequence[dict[str, Any]]
    ) -> list[TrackCandidates]:
        """The candidates of every setting of ``points`` (changes to this builder), in order.

        One call per point; a builder whose settings share work (a neighbour graph built once at
        the largest radius) overrides this with the same results, faster.
        """
        return [self.with_settings(**point)(event, outputs) for point in points]


def grid_points(grid: Grid) -> list[dict[str, Any]]:
    """Every setting of ``grid``: per mapping, each setting's distinct values in ascending order
    (non-numbers in the order given), combined with the first setting varying slowest.

    Raises:
        ValueError: an empty grid or a setting without values.
    """
    groups = [grid] if isinstance(grid, Mapping) else list(grid)
    if not groups:
        raise ValueError("a scan grid needs at least one setting")
    points: list[dict[str, Any]] = []
    for group in groups:
        if not isinstance(group, Mapping) or not group:
            raise ValueError(f"a scan grid is {{setting: [values]}} or a list of them (got {group!r})")
        axes = []
        for name, values in group.items():
            if isinstance(values, str) or not isinstance(values, Sequence) or not len(values):
                raise ValueError(f"scan setting {name!r}: give a non-empty list of values (got {values!r})")
            distinct = list(dict.fromkeys(values))
            numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in distinct)
            axes.append(sorted(distinct) if numeric else distinct)
        points.extend(dict(zip(group, combo, strict=True)) for combo in itertools.product(*axes))
    return points
