"""Reusable widgets: image grids, loss curves, generated forms, the dataset picker."""
