"""The OC family's chain: object condensation on the graph that EC's edge classifier scored."""

from pathlib import Path

from trackcore.family import Family, Step

CONFIGS = Path(__file__).resolve().parent / "configs"

FAMILY = Family(
    name="oc",
    chain=("ml", "ec", "oc"),  # gnn_tracking's recipe: the GNN runs on the EC-filtered graph
    steps=(Step("oc", configs=CONFIGS, config="{data}.yaml", input_step="ec"),),
    order=1,
)
