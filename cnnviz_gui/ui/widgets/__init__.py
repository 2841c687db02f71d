"""Widgets shared by the feature packages: map grids, image previews, colour choice."""
