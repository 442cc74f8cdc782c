"""Metrics: segmentation overlap (and, later, super-resolution quality)."""
