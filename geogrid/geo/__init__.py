"""Geometry in and out: coordinate systems, reading and checking layers, placing points and addresses."""
