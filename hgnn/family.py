"""The HGNN family's chain: the hierarchical GNN on the metric-learning graph."""

from pathlib import Path

from trackcore.family import Family, Step

CONFIGS = Path(__file__).resolve().parent / "configs"

FAMILY = Family(
    name="hgnn",
    chain=("ml", "hgnn"),
    steps=(Step("hgnn", configs=CONFIGS, config="{data}.yaml", input_step="ml"),),
    order=3,
)
