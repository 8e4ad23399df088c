"""Graph construction: the core stages whose outputs the families read.

- :mod:`trackcore.graph.metric_learning`: an MLP embeds hits, a radius search (FAISS) in the
  embedding gives the graph (``ml``, the first step of EC, OC and HGNN);
- :mod:`trackcore.graph.filter`: an optional edge MLP that thins the graph;
- :mod:`trackcore.graph.edge_scoring`: the base of every stage that scores a graph's edges
  (the filter and EC's edge classifier).

Their shipped configs are in ``trackcore/graph/configs``.
"""

from pathlib import Path

from trackcore.family import Step

CONFIGS = Path(__file__).resolve().parent / "configs"

GRAPH_STEP = Step("ml", configs=CONFIGS, config="{data}_metric_learning.yaml")
"""The graph-construction step (metric learning) that EC, OC and HGNN read."""
