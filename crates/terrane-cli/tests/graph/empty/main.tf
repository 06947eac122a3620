# No objects: the graph has only root and the count boundary.
