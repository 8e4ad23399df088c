"""The EggNet family's chain: one step on the point cloud (EggNet builds its own graphs)."""

from pathlib import Path

from trackcore.family import Family, Step

CONFIGS = Path(__file__).resolve().parent / "configs"

FAMILY = Family(
    name="eggnet",
    chain=("eggnet",),
    steps=(Step("eggnet", configs=CONFIGS, config="{data}.yaml"),),
    order=2,
)
