"""Cameras: reading and validating camera layers (layer), what they see and where they stand (views)."""
