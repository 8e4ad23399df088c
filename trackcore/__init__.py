"""trackcore: the shared core of the GNN tracking framework (data, neighbours, nn, losses, build, metrics)."""

__version__ = "0.1.0"
