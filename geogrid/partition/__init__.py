"""Divide communities (first-level grids) into second-level grids."""

from geogrid.partition.engine import PartitionResult, partition

__all__ = ["PartitionResult", "partition"]
