"""The EC family's chain: metric learning (the core's graph construction), then the edge classifier."""

from pathlib import Path

from trackcore.family import Family, Step

CONFIGS = Path(__file__).resolve().parent / "configs"

FAMILY = Family(
    name="ec",
    chain=("ml", "ec"),
    steps=(Step("ec", configs=CONFIGS, config="{data}_edge_classifier.yaml", input_step="ml"),),
    order=0,
)
