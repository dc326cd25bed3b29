"""Cameras: reading camera points, their view sectors, grid coverage and the cameras that see a spot."""
