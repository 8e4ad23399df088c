"""Neural-network building blocks shared by the model families: MLPs, aggregations, the interaction
network, GMPool and heads.

Usage (``x``: ``(N, F)`` hit features, ``edge_index``: ``(2, E)``, ``[0]`` source, ``[1]`` target)::

    from trackcore.nn import EdgeClassifierHead, InteractionNetwork

    gnn = InteractionNetwork(node_in=3, hidden_dim=128, n_iterations=8)
    head = EdgeClassifierHead(node_dim=128)
    out = gnn(x, edge_index)
    logits_e = head(out.node, edge_index, out.edge)
"""

from trackcore.nn.activation import ACTIVATIONS, make_activation
from trackcore.nn.aggregation import AGGREGATIONS, aggregate, sum_operator
from trackcore.nn.edge_features import EDGE_FEATURE_NAMES, geometric_edge_features, wrap_phi
from trackcore.nn.edge_head import EdgeClassifierHead
from trackcore.nn.evolving_graph import EvolvingGraphAttention, EvolvingGraphOutput
from trackcore.nn.gmpool import (
    GMPool,
    PoolingOutput,
    TwoGaussians,
    connected_component_labels,
    fit_two_gaussians,
    gmm_cut,
)
from trackcore.nn.graph_attention import GraphAttentionStep
from trackcore.nn.hierarchical import HierarchicalCell, HierarchicalGraph, HierarchicalState
from trackcore.nn.interaction_network import InteractionNetwork, InteractionNetworkOutput
from trackcore.nn.mlp import MLP

__all__ = [
    "ACTIVATIONS",
    "AGGREGATIONS",
    "EDGE_FEATURE_NAMES",
    "EdgeClassifierHead",
    "EvolvingGraphAttention",
    "EvolvingGraphOutput",
    "GMPool",
    "GraphAttentionStep",
    "HierarchicalCell",
    "HierarchicalGraph",
    "HierarchicalState",
    "InteractionNetwork",
    "InteractionNetworkOutput",
    "MLP",
    "PoolingOutput",
    "TwoGaussians",
    "aggregate",
    "connected_component_labels",
    "fit_two_gaussians",
    "geometric_edge_features",
    "gmm_cut",
    "make_activation",
    "sum_operator",
    "wrap_phi",
]
