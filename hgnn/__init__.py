"""Hierarchical GNN family: GMPool super-nodes and bipartite hit-to-track assignment."""
