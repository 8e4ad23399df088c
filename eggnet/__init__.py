"""EggNet family: one-shot tracking with evolving-graph attention from the point cloud."""
