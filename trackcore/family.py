"""How a tracker family declares the chain of stages that makes its tracks, and how the core finds it.

A family (a top-level package such as ``oc``) ships its configs inside the package and declares
its steps in ``<family>/family.py``::

    FAMILY = Family(
        name="oc",
        chain=("ml", "ec", "oc"),  # the steps, in order; "ml" (graph construction) is the core's
        steps=(Step("oc", configs=CONFIGS, config="{data}.yaml", input_step="ec"),),
    )

and registers it as an entry point of the group ``trackcore.families`` in its ``pyproject.toml``
(``oc = "oc.family:FAMILY"``). ``trackcore compare`` and ``trackcore bench`` read these
declarations; the core never imports a family by name, and the configs are found in an installed
wheel as in a source checkout.

A step's config depends on the data: ``small`` (the simulated presets), ``real_pt1`` (the real
pT > 1 GeV pixel events), ``acts`` (the ACTS ttbar presets; a step without an ``acts`` config
takes its ``small`` one), ``full_pixel`` (full events, nothing removed with the truth: the
``full_pixel`` and ``full`` benchmarks, on any data) and ``full_trackml`` (full events at TrackML
density: the models trained there; a step without one takes its ``full_pixel`` config).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

ENTRY_POINT_GROUP = "trackcore.families"
DATA_KINDS = ("small", "real_pt1", "acts", "full_pixel", "full_trackml")
FALLBACK_KINDS = {"acts": "small", "full_trackml": "full_pixel"}
"""The kind whose config a step without one of its own takes."""


@dataclass(frozen=True)
class Step:
    """One trained stage: its name (also its run and stage folder name), its configs and its input.

    Args:
        name: the stage.
        configs: the folder of its configs.
        config: the config's file name, ``{data}`` standing for the data kind (:data:`DATA_KINDS`).
        input_step: the step whose stage folder it reads (None: the raw events).
    """

    name: str
    configs: Path
    config: str
    input_step: str | None = None

    def config_path(self, data: str) -> Path:
        """The step's config for ``data`` (``acts`` falls back to ``small``, ``full_trackml`` to
        ``full_pixel``, where the step has none: :data:`FALLBACK_KINDS`).

        Raises:
            ValueError: ``data`` is not one of :data:`DATA_KINDS`.
            FileNotFoundError: the config is missing (a broken install).
        """
        if data not in DATA_KINDS:
            raise ValueError(f"data kind must be one of {DATA_KINDS} (got {data!r})")
        path = self.configs / self.config.format(data=data)
        if data in FALLBACK_KINDS and not path.is_file():
            path = self.configs / self.config.format(data=FALLBACK_KINDS[data])
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the config of step {self.name!r} is missing")
        return path


@dataclass(frozen=True)
class Family:
    """A tracker family: its name, the steps it trains and the chain of steps that makes its tracks.

    Args:
        name: the family (``--families`` of ``trackcore compare``); also its final step's name.
        chain: every step of its tracks, in order, by name: its own steps and those it reads of
            the core (``ml``) or of another family (OC reads EC's scored graph, ``ec``).
        steps: the steps it defines.
    """

    name: str
    chain: tuple[str, ...]
    steps: tuple[Step, ...] = field(default=())
    order: int = 100
    """Its place in comparisons (runs and tables), smallest first; ties by name."""


def load_families() -> dict[str, Family]:
    """Every installed family (entry points of :data:`ENTRY_POINT_GROUP`), by name, in their ``order``.

    Raises:
        TypeError: an entry point that is not a :class:`Family`.
    """
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        family = ep.load()
        if not isinstance(family, Family):
            raise TypeError(f"entry point {ep.name} = {ep.value!r} of {ENTRY_POINT_GROUP}: not a trackcore Family")
        found[family.name] = family
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))
