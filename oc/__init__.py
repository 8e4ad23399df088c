"""Object-condensation family: GNN with beta and cluster-coordinate heads, OC loss, clustering."""
